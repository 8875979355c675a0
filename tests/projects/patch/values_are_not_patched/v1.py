LIMIT = 1
NAMES = ["a"]
