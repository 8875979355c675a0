import functools


def shout(f):
    @functools.wraps(f)
    def wrapper(*a, **k):
        return f(*a, **k).upper()

    return wrapper
