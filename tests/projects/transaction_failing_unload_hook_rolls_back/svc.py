import first

V = first.V


def __hotmod_unload__():
    raise OSError("cannot close")
