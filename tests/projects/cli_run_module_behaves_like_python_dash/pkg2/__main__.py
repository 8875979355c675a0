print("package main", __spec__.name)
