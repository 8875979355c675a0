VALUE = 1


def f():
    return "a"
