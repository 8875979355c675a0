LOG.append("a")
X = 100
NEW_ONLY = "new"


def f():
    return "f-new"


class C:
    attr = "new"
    added = 1

    def m(self):
        return "m-new"
