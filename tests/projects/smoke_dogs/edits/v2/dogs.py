famous = ["Rex", "Lassie"]


def bark():
    return "WOOF"
