LOG.append("b")
from a import X, f, C

Y = X + 1
