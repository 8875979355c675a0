class A:
    pass


class B:
    pass


class Slotted:
    __slots__ = ("x",)


class Sub(A):
    pass
