def f():
    return "old"


class K:
    pass


import b
