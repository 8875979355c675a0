LOG.append("right")
from base import N

R = N + 100
