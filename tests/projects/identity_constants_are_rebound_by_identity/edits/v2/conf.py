LIMIT = 6
NAME = "new"
