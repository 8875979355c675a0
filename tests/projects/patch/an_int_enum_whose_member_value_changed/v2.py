import enum


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 3
