LOG.append("pkg.y")
from pkg import x
from pkg.x import X

Y = X + x.X
