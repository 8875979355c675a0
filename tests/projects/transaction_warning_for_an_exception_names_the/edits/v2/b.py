import a


def helper():
    return 1 / 0


helper()
