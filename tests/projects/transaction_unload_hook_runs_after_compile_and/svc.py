LOG.append("svc ran")


def __hotmod_unload__():
    LOG.append("svc unload")
