def plain_decorator(f):
    def wrapper(*args):
        return ("wrapped", f(*args))

    return wrapper


def make_handler(greeting):
    def handler(name):
        return f"{greeting}, {name}"

    return handler
