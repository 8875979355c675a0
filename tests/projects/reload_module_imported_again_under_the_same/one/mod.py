X = "one"
