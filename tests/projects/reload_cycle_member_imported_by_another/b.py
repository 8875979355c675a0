LOG.append("b")
import a

B = 10


def get_a():
    return a.A
