LIMIT = 5
NAME = "old"
