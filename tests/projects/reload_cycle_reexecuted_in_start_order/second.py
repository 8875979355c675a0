LOG.append("second")
import first

B = 10


def get_a():
    return first.A
