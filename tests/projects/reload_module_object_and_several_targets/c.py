import a
import b

C = a.A + b.B
