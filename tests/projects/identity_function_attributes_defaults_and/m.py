def f(a, b=1, *, c=2):
    "old doc"
    return a + b + c
