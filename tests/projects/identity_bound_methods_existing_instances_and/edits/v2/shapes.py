class Shape:
    sides = 0

    def describe(self):
        return f"new {self.sides} {self.extra()}"

    def extra(self):
        return "extra"


class Square(Shape):
    sides = 4

    def area(self):
        return self.size**3

    def __init__(self, size):
        self.size = size
