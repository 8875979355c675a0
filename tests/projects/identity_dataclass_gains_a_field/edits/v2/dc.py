from dataclasses import dataclass


@dataclass
class Point:
    x: int
    y: int = 0
    z: int = 5

    def norm(self):
        return abs(self.x) + abs(self.y) + abs(self.z)
