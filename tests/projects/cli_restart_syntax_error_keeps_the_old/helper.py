VALUE = "start"
