LOG.append("early")
W = 1
