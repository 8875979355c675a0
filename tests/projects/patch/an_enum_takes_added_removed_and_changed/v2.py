import enum


class Color(enum.Enum):
    RED = 1
    GREEN = 20
    BLUE = 3
    CRIMSON = 1  # an alias of RED

    def describe(self):
        return f"new {self.name} {self.value}"
