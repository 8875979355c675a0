from ipython_shell import cell, save

cell("%load_ext hotmod")
cell("from m import f, LIMIT")
save("m.py", "LIMIT = 4\ndef f(:\n    return 'new'\n")
print("broken:", cell("(f(), LIMIT)"))
save("m.py", "LIMIT = 4\ndef f():\n    return 'new'\n")
print("fixed:", cell("(f(), LIMIT)"))
