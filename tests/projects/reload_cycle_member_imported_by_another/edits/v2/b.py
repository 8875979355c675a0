LOG.append("b")
import a

B = 20


def get_a():
    return a.A
