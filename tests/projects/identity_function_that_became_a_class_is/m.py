def Thing():
    return 'func'
