from ipython_shell import cell, save

cell("%load_ext hotmod")
cell("from m import f, LIMIT; import m")
save("m.py", "LIMIT = 4\ndef f():\n    return 'new'\nraise RuntimeError('boom')\n")
print("result:", cell("(f(), LIMIT, m.LIMIT, m.f())"))
