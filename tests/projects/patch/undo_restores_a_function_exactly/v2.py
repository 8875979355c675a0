def f(x: str = "a", *, k="b") -> str:
    "doc 2"
    return x * 2 + k


f.other = "two"
