"""Stock counts; imports nothing from the rest of the shop."""

STOCK = {"apple": 3}


def in_stock(item: str) -> bool:
    return STOCK.get(item, 0) > 0
