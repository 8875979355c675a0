NAME = "c"
