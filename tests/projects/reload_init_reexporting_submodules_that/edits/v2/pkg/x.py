LOG.append("pkg.x")
X = 5
