def make():
    a = 1

    def inner():
        return a

    return inner


inner = make()
