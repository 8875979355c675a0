import sys
import hotmod
from scenario import capture_log, edit, write

capture_log()
import pkg.a
import pkg.b

mods = {n: sys.modules[n] for n in ("pkg", "pkg.a", "pkg.b")}
hotmod.dependents("pkg.b")
order = list(sys.modules)  # the next cycle's order is read from it
for source in (
    "from pkg import a\nB = 1 / 0\n",
    # the error is caught by the importer: still a failed reload
    "from pkg import a\nB = 2\nraise KeyError('b')\n",
):
    write("pkg/b.py", source)
    if "KeyError" in source:
        edit("pkg/a.py", 3)
    report = hotmod.reload("pkg.b")
    assert not report.ok and report.module == "pkg.b", report
    assert isinstance(report.error, (ZeroDivisionError, KeyError)), report.error
    for name, module in mods.items():
        assert sys.modules[name] is module, name
    assert pkg.a is mods["pkg.a"] and pkg.b is mods["pkg.b"]
    assert pkg.a.A == 2 and pkg.b.B == 1 and pkg.b.a is pkg.a
    # logging the failure may import modules of its own (traceback on 3.13)
    assert [m for m in sys.modules if m in order] == order
edit("pkg/b.py")
edit("pkg/a.py")
report = hotmod.reload("pkg.b")
assert report.ok, report
assert pkg.a.A == 6 and all(sys.modules[n] is m for n, m in mods.items())
