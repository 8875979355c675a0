LOG.append("pkg.x")
X = 1
