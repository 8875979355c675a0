from deco import shout


@shout
def hello(name):
    return "bye " + name
