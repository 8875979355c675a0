FLAG = False
LIMIT = 20
MODE = "slow"


def f():
    return "new"
