LOG.append("pkg")
from .x import X
from .y import Y
