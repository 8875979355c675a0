class Base:
    def greet(self):
        return "BASE"


class Child(Base):
    def greet(self):
        return "CHILD+" + super().greet()

    def other(self):
        return "other+" + super().greet()
