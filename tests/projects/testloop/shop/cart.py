"""A cart, totalled with the prices module."""

from shop.prices import price


class Cart:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, item: str) -> None:
        self.items.append(item)

    def total(self) -> float:
        return sum(price(item) for item in self.items)
