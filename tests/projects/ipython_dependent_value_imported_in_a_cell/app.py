from m import LIMIT

total = LIMIT * 2
