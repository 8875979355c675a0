import enum


class Color(enum.Enum):
    RED = 1
    GREEN = 2
    YELLOW = 4

    def describe(self):
        return "old " + self.name
