LOG.append("first")
import second

A = 1


def total():
    return A + second.B
