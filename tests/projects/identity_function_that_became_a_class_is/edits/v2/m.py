class Thing:
    kind = 'class'
