from pkg import a

B = 5
