HANDLERS = []


def register(f):
    HANDLERS.append(f)
    return f
