X = "two"
