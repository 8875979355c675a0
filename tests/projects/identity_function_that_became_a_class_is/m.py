def Thing():
    return "func"
