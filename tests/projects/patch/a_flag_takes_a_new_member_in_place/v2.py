import enum


class Perm(enum.Flag):
    R = 1
    W = 2
    X = 4
