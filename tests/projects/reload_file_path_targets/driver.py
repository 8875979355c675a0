import os
import sys
import hotmod
from scenario import write

import pathlib
import pkg.user

mod = sys.modules["pkg.mod"]
for i, target in enumerate(
    [
        "pkg/mod.py",
        pathlib.Path("pkg/mod.py"),
        os.path.abspath("pkg/mod.py"),
        os.path.join("pkg", "..", "pkg", "mod.py"),
    ],
    start=2,
):
    write("pkg/mod.py", f"V = {i}\n")
    report = hotmod.reload(target)
    assert report.ok, report
    assert report.reloaded == ["pkg.mod", "pkg.user"], report.reloaded
    print(mod.V, pkg.user.V)
