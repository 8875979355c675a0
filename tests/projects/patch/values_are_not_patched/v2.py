LIMIT = 2
NAMES = ["a", "b"]
