import pkg.b

L = pkg.b.B + 1
