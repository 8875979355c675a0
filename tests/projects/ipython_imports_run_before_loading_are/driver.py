from ipython_shell import cell, save

cell("from m import LIMIT", store_history=True)
cell("%load_ext hotmod", store_history=True)
save("m.py", "LIMIT = 4\n")
print("result:", cell("LIMIT"))
