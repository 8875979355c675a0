from tools import plain_decorator, make_handler


@plain_decorator
def compute(x):
    return x + 100


handler = make_handler("bonjour")
