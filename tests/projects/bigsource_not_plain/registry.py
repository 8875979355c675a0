HANDLERS = []


def register(func):
    HANDLERS.append(func)
    return func
