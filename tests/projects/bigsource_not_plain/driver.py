# A generated module over a megabyte that is not plain: module-level calls, a class,
# decorated functions registering themselves, an alias of a function defined just
# before. Cut into pieces, only those statements parsed; reloaded as a fresh import
# would run it, identity kept.
import traceback
from pathlib import Path

import hotmod
import registry
from hotmod import _bigsource

scans = []  # what each read of a big source gave
scan = _bigsource.scan
_bigsource.scan = lambda *args, **kwargs: scans.append(scan(*args, **kwargs)) or scans[-1]


def big_source(version: int) -> str:
    lines = [
        '"""A generated module."""',
        "from __future__ import annotations",
        "",
        "import logging",
        "",
        "from registry import register, tagged",
        "",
        "log = logging.getLogger(__name__)",
        "",
        f"def g1(x: int) -> int:\n    return x * {version}",
        "ALIAS = g1",
        "",
        "class Shape:",
        "    SIDES = 4",
        "",
        "    def area(self):",
        f"        return {version} * self.SIDES",
        "",
        "SHAPES = [Shape]",
        "KINDS = []",
        "",
        "class Kind:",
        "    def __init_subclass__(cls):",
        "        KINDS.append(cls)",
        "",
        "class Square(Kind):",
        f"    def area(self):\n        return {version}",
        "",
        "@register",
        "@tagged('twice')",
        f"def both():\n    return {version}",
        "",
        '"""A string statement: no docstring of a piece."""',
        "TEMPLATE = '''",
        "class NotAClass:",
        "@not_a_decorator",
        "'''",
        "",
        "def fails():",
        f"    raise ValueError({version})",
        "",
    ]
    for i in range(30_000):
        lines.append(f"def f{i}(x):\n    return x + {i}\n")
        if i % 3_000 == 0:
            lines.append(f"@register\ndef h{i}():\n    return {i} + {version}\n")
    lines += [f"DATA{i} = {{\n    'row': {list(range(1000))!r},\n}}" for i in range(40)]
    return "\n".join(lines) + "\n"


path = Path("big_mod.py")
path.write_text(big_source(1))
assert path.stat().st_size > 1_000_000

import big_mod
import user

assert hotmod.dependents("registry") == ["big_mod", "user"]  # its imports were read
kept = (big_mod.g1, big_mod.f7, big_mod.h0, big_mod.Shape, big_mod.log, big_mod.Square)
kept_both = big_mod.both
shape = big_mod.Shape()
assert user.use() == (2, 1, 4)
assert len(registry.HANDLERS) == 11 and {"twice": big_mod.both} == registry.TAGS

path.write_text(big_source(3))
report = hotmod.reload("big_mod")
assert report.ok, report
assert report.reloaded == ["big_mod", "user"], report.reloaded
# The old text read off the import's code for its imports only, the new one cut into
# pieces: neither parsed whole.
assert [s.pieces and len(s.pieces) > 10 for s in scans if s] == [None, True], scans
now = (big_mod.g1, big_mod.f7, big_mod.h0, big_mod.Shape, big_mod.log, big_mod.Square)
assert all(a is b for a, b in zip(kept, now, strict=True))
assert user.use() == (6, 3, 12) and shape.area() == 12  # new code, old instance too
assert big_mod.ALIAS is big_mod.g1 is user.g1  # read after its hooks: the kept function
# Each decorated function registered once, as the kept object; a class read just
# after its statement, or registered as it is made, is the kept one too.
assert len(registry.HANDLERS) == 11, len(registry.HANDLERS)
assert big_mod.both is kept_both and big_mod.both() == 3
assert registry.HANDLERS[0] is registry.TAGS["twice"] is kept_both
assert [kept[3]] == big_mod.SHAPES and big_mod.SHAPES[0] is kept[3]
assert [kept[5]] == big_mod.KINDS and big_mod.KINDS[0] is kept[5], big_mod.KINDS
assert big_mod.Square().area() == 3
assert registry.HANDLERS[1] is big_mod.h0 and big_mod.h0() == 3
assert big_mod.__doc__ == "A generated module."
assert big_mod.TEMPLATE.startswith("\nclass NotAClass:")
assert big_mod.g1.__annotations__ == {"x": "int", "return": "int"}  # the __future__ import
# A traceback names the line of the new source.
try:
    big_mod.fails()
except ValueError:
    line = traceback.extract_tb(__import__("sys").exc_info()[2])[-1].lineno
    assert line == big_source(3).splitlines().index("    raise ValueError(3)") + 1, line

# A syntax error: named by file and line; the old code keeps running.
broken = big_source(4).replace("    return 4 * self.SIDES", "    return 4 * (self.SIDES")
path.write_text(broken)
report = hotmod.reload("big_mod")
assert not report.ok and isinstance(report.error, SyntaxError), report
assert report.error.filename.endswith("big_mod.py"), report.error.filename
assert user.use() == (6, 3, 12)

# A module-level call raising after every function got its new code: all rolled back,
# the functions the pieces before it kept included.
path.write_text(big_source(5) + "raise RuntimeError('at the end')\n")
report = hotmod.reload("big_mod")
assert not report.ok and isinstance(report.error, RuntimeError), report
assert user.use() == (6, 3, 12) and big_mod.h0() == 3  # g1 (a plain run), h0 (parsed)
assert big_mod.g1 is kept[0] and len(registry.HANDLERS) == 11
print("ok")
