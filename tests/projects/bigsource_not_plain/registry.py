HANDLERS = []


def register(func):
    HANDLERS.append(func)
    return func


TAGS = {}


def tagged(word):
    def tag(func):
        TAGS[word] = func
        return func

    return tag
