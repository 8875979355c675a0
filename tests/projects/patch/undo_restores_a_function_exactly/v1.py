def f(x: int = 1, *, k=2) -> int:
    "doc 1"
    return x + k


f.marker = "one"
