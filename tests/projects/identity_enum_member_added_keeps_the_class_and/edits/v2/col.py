import enum


class Color(enum.Enum):
    RED = 1
    BLUE = 3
