from shop.inventory import in_stock


def test_apple_in_stock() -> None:
    assert in_stock("apple")


def test_pear_not_in_stock() -> None:
    assert not in_stock("pear")
