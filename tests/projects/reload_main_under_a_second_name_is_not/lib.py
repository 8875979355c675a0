def greet():
    return "hello"


VALUE = 1
