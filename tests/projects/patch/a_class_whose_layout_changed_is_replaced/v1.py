class P:
    __slots__ = ("x",)

    def get(self):
        return "old"
