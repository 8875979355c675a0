class Shape:
    sides = 0

    def describe(self):
        return f"old {self.sides}"


class Square(Shape):
    sides = 4

    def area(self):
        return self.size**2

    def __init__(self, size):
        self.size = size
