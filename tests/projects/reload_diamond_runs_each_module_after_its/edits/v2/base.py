LOG.append("base")
N = 2
