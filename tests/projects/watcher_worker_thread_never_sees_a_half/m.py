VERSION = 0


def helper(x):
    return x + VERSION


def compute():
    return helper(0)
