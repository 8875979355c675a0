def f():
    return 1


class K:
    pass


X = [1]
