import pkg.m0

L = 2
