def f():
    return "f"


g = f
