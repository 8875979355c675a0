import enum


class Planet(enum.Enum):
    EARTH = (5.97, 6.371)
    MARS = (0.642, 3.39)

    def __init__(self, mass, radius):
        self.mass = mass
        self.radius = radius
        self.density = mass / radius**3
