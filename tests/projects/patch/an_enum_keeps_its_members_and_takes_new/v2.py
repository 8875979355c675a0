import enum


class Color(enum.Enum):
    RED = 1
    BLUE = 2

    def describe(self):
        return "new " + self.name.lower()
