VALUE = 2


def f():
    return "b"
