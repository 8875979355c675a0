from pkg import W

L = W
raise KeyError("late")
