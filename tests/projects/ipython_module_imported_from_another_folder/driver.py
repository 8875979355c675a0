import os
import tempfile
from hotmod._watcher import current_watcher
from ipython_shell import cell, save

far = tempfile.mkdtemp()
with open(os.path.join(far, "faraway.py"), "w") as f:
    f.write("def f():\n    return 'old'\n")
cell("%load_ext hotmod")
cell(f"import sys; sys.path.append({far!r})")
cell("import faraway")
assert os.path.realpath(far) in current_watcher().paths
save(os.path.join(far, "faraway.py"), "def f():\n    return 'new'\n")
print("result:", cell("faraway.f()"))
