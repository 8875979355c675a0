LOG.append("a")
X = 1
OLD_ONLY = "old"


def f():
    return "f-old"


class C:
    attr = "old"

    def m(self):
        return "m-old"
