class Base:
    def who(self):
        return "base-old"


class Shape(Base):
    sides = 0

    def describe(self):
        return f"old {self.sides}"

    def gone(self):
        return "gone"

    @staticmethod
    def kind():
        return "old-static"

    @classmethod
    def make(cls):
        return cls()

    @property
    def label(self):
        return "old-label"
