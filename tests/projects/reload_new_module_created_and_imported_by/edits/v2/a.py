from fresh import F

X = F + 2
