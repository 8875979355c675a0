def value():
    return "old"
