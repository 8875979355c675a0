LOG.append("svc ran 2")


def __hotmod_unload__():
    LOG.append("svc unload 2")
