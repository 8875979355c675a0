KEEP = [1, 2]
NEW = "new"


def added():
    return 2
