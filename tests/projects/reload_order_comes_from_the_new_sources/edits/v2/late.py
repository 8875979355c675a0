LOG.append("late")
from early import W

V = W + 1
