from pathlib import Path

from ipython_shell import cell, save

cell("%load_ext hotmod")
cell("""
    from m import LIMIT
    from m import LIMIT as cap
    import m
    SIZE = 3   # the user's own, equal to m.SIZE (the same small int object)
""")
assert cell("SIZE is m.SIZE")
save("m.py", Path("m.py").read_text().replace("3", "4"))
print("result:", cell("(LIMIT, cap, m.LIMIT, SIZE, m.SIZE)"))
