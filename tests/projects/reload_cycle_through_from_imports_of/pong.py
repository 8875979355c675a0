from ping import ping


def pong(n):
    return "pong" if n <= 0 else ping(n - 1)
