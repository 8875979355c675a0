import enum


class Planet(enum.Enum):
    EARTH = (5.97, 6.37)

    def __init__(self, mass, radius):
        self.mass = mass
        self.radius = radius
