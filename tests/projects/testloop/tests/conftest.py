import pytest
from shop.cart import Cart


@pytest.fixture
def cart() -> Cart:
    return Cart()


@pytest.fixture(scope="session")
def session_token() -> list[str]:
    return ["token"]
