from deco import shout


@shout
def hello(name):
    return "hello " + name
