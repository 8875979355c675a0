from big_mod import TABLE, g1


def use():
    return g1(2), TABLE[0]
