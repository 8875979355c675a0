LOG.append("a")
import b

A = b.B + 1
