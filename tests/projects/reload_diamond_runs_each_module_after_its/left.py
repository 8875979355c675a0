LOG.append("left")
import base

L = base.N + 10
