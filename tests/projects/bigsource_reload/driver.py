# A generated module over a megabyte of plain data and functions, edited and reloaded.
from pathlib import Path

import hotmod


def big_source(version: int, *, extra: str = "", table: int = 0) -> str:
    lines = [
        "from helper import K",
        "",
        "def lazy():",
        "    import helper",
        "    return helper.K",
        "",
        f"def g1(x):\n    return x * {version} + K",
        "",
        f"TABLE = [{table}, 1, 2]",
        extra,
    ]
    lines += [f"def f{i}(x):\n    return x + {i}\n" for i in range(25_000)]
    lines += [f"DATA{i} = {list(range(1000))!r}" for i in range(20)]
    return "\n".join(lines) + "\n"


path = Path("big_mod.py")
path.write_text(big_source(1, extra="OLD = 1"))
assert path.stat().st_size > 1_000_000

import big_mod
import user

g1, f7, table = big_mod.g1, big_mod.f7, big_mod.TABLE
assert user.use() == (3, 0)

# An edit: g1's body, TABLE's value, OLD removed.
path.write_text(big_source(2, table=5))
report = hotmod.reload("big_mod")
assert report.ok, report
assert report.reloaded == ["big_mod", "user"], report.reloaded
assert big_mod.g1 is g1 and big_mod.f7 is f7  # identity kept, changed or not
assert user.use() == (5, 5)  # the new body; the from-import of TABLE rebound
assert user.TABLE is big_mod.TABLE is not table
assert not hasattr(big_mod, "OLD")  # gone, as after a fresh import

# The imports were read: helper's dependents include big_mod (and, through it, user).
assert hotmod.dependents("helper") == ["big_mod", "user"], hotmod.dependents("helper")
Path("helper.py").write_text("K = 10\n")
report = hotmod.reload("helper")
assert report.ok, report
assert user.use() == (14, 5) and big_mod.lazy() == 10

# A syntax error: the plan fails naming the file and line; the old code keeps running.
broken = big_source(3).replace("TABLE = [0, 1, 2]", "TABLE = [0, 1,")
path.write_text(broken)
report = hotmod.reload("big_mod")
assert not report.ok and isinstance(report.error, SyntaxError), report
assert report.error.filename.endswith("big_mod.py"), report.error.filename
assert report.error.lineno == broken.splitlines().index("TABLE = [0, 1,") + 1
assert user.use() == (14, 5)
print("ok")
