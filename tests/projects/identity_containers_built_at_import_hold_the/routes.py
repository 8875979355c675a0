ROUTES = {}
HOOKS = []


def route(path):
    def deco(f):
        ROUTES[path] = f
        return f

    return deco


@route("/")
def index():
    return "old"


class View:
    pass


HOOKS.append(index)
HOOKS.append(View)
