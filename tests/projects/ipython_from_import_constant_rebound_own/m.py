LIMIT = 3
SIZE = 3


def f():
    return "old"


class Greeter:
    def __init__(self, name):
        self.name = name

    def hello(self):
        return "hello " + self.name
