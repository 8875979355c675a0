def make():
    a, b = 1, 2

    def inner():
        return a + b

    return inner


inner = make()
