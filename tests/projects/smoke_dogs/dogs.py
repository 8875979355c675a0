famous = ["Rex"]


def bark():
    return "woof"
