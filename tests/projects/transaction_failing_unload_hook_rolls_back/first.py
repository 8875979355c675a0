LOG.append("first")
V = 1
