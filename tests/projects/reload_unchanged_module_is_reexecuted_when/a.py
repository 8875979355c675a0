LOG.append("a")
X = 1
