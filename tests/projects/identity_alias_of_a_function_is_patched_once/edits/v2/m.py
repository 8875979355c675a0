def f():
    return "F"


def g():
    return "G"
