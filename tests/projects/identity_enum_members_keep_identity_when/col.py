import enum


class Color(enum.Enum):
    RED = 1
    GREEN = 2

    def label(self):
        return "old " + self.name
