"""A module no test imports."""

VALUE = 1
