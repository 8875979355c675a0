def greet(name, punct="!"):
    "old doc"
    return "old " + name + punct


greet.tag = "v1"
