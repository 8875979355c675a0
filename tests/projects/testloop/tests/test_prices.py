from shop.prices import price


def test_pear() -> None:
    assert price("pear") == 6


def test_session_fixture(session_token: list[str]) -> None:
    assert session_token == ["token"]
