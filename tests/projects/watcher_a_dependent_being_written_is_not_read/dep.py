from leaf import VALUE


def first():
    return VALUE


def second():
    return VALUE * 2
