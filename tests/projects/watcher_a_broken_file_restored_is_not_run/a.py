import b


def fa():
    return "a1 " + b.fb()
