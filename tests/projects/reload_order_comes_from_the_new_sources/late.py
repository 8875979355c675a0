LOG.append("late")
V = 1
