def fb():
    return "b1"
