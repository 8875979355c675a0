from .a import A

X = A
