from a import f, K, X
