class A:
    pass


class B:
    pass


class Slotted:
    __slots__ = ("x", "y")


class Sub(B):
    pass
