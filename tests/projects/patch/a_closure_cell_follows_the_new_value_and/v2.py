def make():
    factor = 3

    def scale(x):
        return x * factor

    return scale


scale = make()
