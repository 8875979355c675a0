LOG.append("bystander")
B = 5
