from big_mod import ALIAS, Shape, g1


def use():
    return g1(2), ALIAS(1), Shape().area()
