from pkg import W

L = W
