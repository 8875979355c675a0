LOG.append("b")
import a
