from ipython_shell import cell, save

cell("%load_ext hotmod")
cell("from app import total")
cell("%hotmod graph m")
save("m.py", "LIMIT = 10\n")
print("result:", cell("total"))
