import pkg.b

A = pkg.b.B + 1
