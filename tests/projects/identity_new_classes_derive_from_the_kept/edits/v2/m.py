class B:
    def hi(self):
        return "B"


class C(B):
    class Nested(B):
        pass

    def hi(self):
        return "C+" + super().hi()
