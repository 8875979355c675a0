def make(k):
    def add(x):
        return x + k

    return add


add_one = make(1)


def outer():
    y = 1

    def same():
        return y

    return same


same = outer()
