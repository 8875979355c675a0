LOG.append("early")
W = 10
