LOG.append("first")
V = 2
