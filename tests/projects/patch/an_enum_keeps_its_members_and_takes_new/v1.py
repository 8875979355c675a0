import enum


class Color(enum.Enum):
    RED = 1
    BLUE = 2

    def describe(self):
        return "old " + self.name
