def f():
    import a
