import hotmod


def connect():
    LOG.append("connect")
    return {"conn": len(LOG)}


conn = hotmod.keep("conn", connect)
cache = hotmod.keep("cache", dict)
VERSION = 1
