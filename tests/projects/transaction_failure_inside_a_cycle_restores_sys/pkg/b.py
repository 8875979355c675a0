from pkg import a

B = 1
