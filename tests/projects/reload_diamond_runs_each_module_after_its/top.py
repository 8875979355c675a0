LOG.append("top")
import left
import right

T = left.L + right.R
