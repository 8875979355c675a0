X = "original"
