def f():
    return 2


class K:
    pass


X = [2]
