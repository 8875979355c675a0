X = "two, edited"
