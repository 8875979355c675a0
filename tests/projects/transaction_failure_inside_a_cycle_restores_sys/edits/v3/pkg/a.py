try:  # noqa: SIM105 (plain code, as in the programs under test)
    import pkg.b
except KeyError:
    pass
A = 0
