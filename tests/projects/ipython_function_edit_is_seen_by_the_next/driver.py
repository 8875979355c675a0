from ipython_shell import cell, save

cell("%load_ext hotmod")
cell("from m import f")
assert cell("f()") == "old"
save("m.py", "def f():\n    return 'new'\n")
print("result:", cell("f()"))
assert cell("import m; m.f is f")
