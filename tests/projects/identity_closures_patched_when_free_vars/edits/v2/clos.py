def make(k):
    def add(x):
        return x + k * 100

    return add


add_one = make(1)


def outer():
    y = 1
    z = 5

    def same():
        return y + z

    return same


same = outer()
