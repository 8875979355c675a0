import lib

X = lib.L
