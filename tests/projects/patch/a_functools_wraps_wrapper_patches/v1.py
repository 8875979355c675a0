import functools


def shout(f):
    @functools.wraps(f)
    def wrapper(*a):
        return f(*a).upper()

    return wrapper


@shout
def hello(name):
    return "hello " + name
