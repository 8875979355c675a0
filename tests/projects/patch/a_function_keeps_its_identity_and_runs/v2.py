def greet(name, punct="?", *, loud=False):
    "new doc"
    return ("NEW " if loud else "new ") + name + punct


greet.tag = "v2"
