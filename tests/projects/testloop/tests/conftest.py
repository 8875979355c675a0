from collections.abc import Iterator
from pathlib import Path

import pytest
from shop.cart import Cart

LOG = Path(__file__).resolve().parent.parent / "session.log"

# Sample inputs, not tests, although their names look like tests.
collect_ignore = ["data"]


@pytest.fixture
def cart() -> Cart:
    return Cart()


@pytest.fixture(scope="session")
def session_token() -> Iterator[list[str]]:
    with LOG.open("a") as log:
        log.write("setup\n")
    yield ["token"]
    with LOG.open("a") as log:
        log.write("teardown\n")
