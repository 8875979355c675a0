from ipython_shell import cell, save

cell("%load_ext hotmod")
cell("from m import LIMIT")
cell("%hotmod pause")
save("m.py", "LIMIT = 4\n")
print("paused:", cell("LIMIT"))
cell("%hotmod status")
cell("%hotmod resume")
print("resumed:", cell("LIMIT"))
cell("%hotmod")
cell("%hotmod bogus")
