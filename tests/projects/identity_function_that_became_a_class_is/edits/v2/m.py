class Thing:
    kind = "class"
