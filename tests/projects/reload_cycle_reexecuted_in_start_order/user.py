LOG.append("user")
from first import total

T = total()
