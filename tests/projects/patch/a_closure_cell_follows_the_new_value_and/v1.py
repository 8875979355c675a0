def make():
    factor = 2

    def scale(x):
        return x * factor

    return scale


scale = make()
