from a import f

X = 1
