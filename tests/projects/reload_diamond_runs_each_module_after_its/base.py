LOG.append("base")
N = 1
