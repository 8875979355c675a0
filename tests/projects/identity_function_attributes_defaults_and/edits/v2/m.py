def f(a, b=10, *, c=20):
    "new doc"
    return a * b * c
