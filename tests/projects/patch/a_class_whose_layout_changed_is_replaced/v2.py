class P:
    __slots__ = ("x", "y")

    def get(self):
        return "new"
