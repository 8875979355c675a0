class Base:
    def who(self):
        return "base-new"


class Shape(Base):
    sides = 4

    def describe(self):
        return f"new {self.sides} {self.extra()}"

    def extra(self):
        return "extra"

    @staticmethod
    def kind():
        return "new-static"

    @classmethod
    def make(cls):
        return ("made", cls)

    @property
    def label(self):
        return "new-label"
