import lib

A = lib.L
