from pathlib import Path

from ipython_shell import cell, save

cell("%load_ext hotmod")
cell("from m import Greeter; import m; g = Greeter('ann')")
save("m.py", Path("m.py").read_text().replace('"hello "', '"HI "'))
print("result:", cell("g.hello()"))
assert cell("isinstance(g, Greeter) and isinstance(g, m.Greeter)")
assert cell("Greeter('bo').hello()") == "HI bo"
