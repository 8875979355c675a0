LOG.append("b")
from a import X
import a

DOUBLE = a.X * 2
