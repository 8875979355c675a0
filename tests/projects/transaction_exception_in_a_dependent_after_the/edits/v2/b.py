LOG.append("b")
from a import X

raise RuntimeError("boom in b")
