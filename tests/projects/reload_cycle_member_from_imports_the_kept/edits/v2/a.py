def f():
    return "new"


class K:
    x = 1


import b
