from shop.cart import Cart


def test_empty(cart: Cart) -> None:
    assert cart.total() == 0


def test_apple(cart: Cart) -> None:
    cart.add("apple")
    assert cart.total() == 3


def test_fresh_cart(cart: Cart) -> None:
    assert cart.items == []
    cart.add("pear")
