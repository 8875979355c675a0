LOG.append("second")
import first

B = 20


def get_a():
    return first.A * 2
