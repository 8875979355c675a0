FLAG = True
LIMIT = 10
MODE = "fast"


def f():
    return "old"
