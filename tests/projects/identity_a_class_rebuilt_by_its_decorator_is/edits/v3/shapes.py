import dataclasses


@dataclasses.dataclass(slots=True)  # returns a new class, built from the one defined
class Point:
    x: int
    y: int = 0

    def describe(self):
        return "v3"
