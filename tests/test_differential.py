"""Differential test: a hot reload ends where a fresh interpreter importing the final sources does.

A seeded generator writes small module graphs (5-12 modules, a package whose
``__init__`` re-exports from its submodules, relative and absolute imports, from-imports of
constants, functions and classes, values computed from imports, subclasses of imported
classes, containers of functions, optional names that come and go, new modules, import
cycles, enums whose members come, go, change value and become aliases, names defined
twice: registered twice, or a stub before the definition, functions and classes that
become registered and stop being so, functions registered in one to three registries
that an edit changes) and edit scripts of several rounds. After each
round the hot interpreter reloads the edited modules; a fresh interpreter imports the
same sources. The canonical view of
every module's public names (values, function results, class attributes and methods,
and whether each function or class is the one its home module exposes) must be equal.
In the hot interpreter, an enum member held from before a reload must still be the
member of its name while that name is a member (not an alias) of the enum, and a
function held from before a reload must still be the one its module binds, running its
newest code.

Several cases share one pair of subprocesses, to keep the suite fast.
"""

from __future__ import annotations

import json
import random
import re
import textwrap
from dataclasses import dataclass, field

import pytest

from conftest import Project

CASES_PER_BATCH = 8
BATCHES = 4
ROUNDS = 3


def _seeds(batch: int) -> list[int]:
    return [1000 * batch + n for n in range(CASES_PER_BATCH)]


@dataclass
class _Case:
    key: str
    names: list[str]  # module names in index order; a module imports lower indexes only
    package: str
    cycles: dict[int, int]  # low -> high: `high` imports `low`, `low` imports `high` last
    reexport: list[int]
    version: dict[int, int] = field(default_factory=dict)
    new_modules: int = 0


def _path(name: str) -> str:
    return name.replace(".", "/") + ".py"


def _module_source(rng: random.Random, case: _Case, i: int) -> tuple[str, dict[str, str]]:
    """The source of module ``i`` (a new version of it), and any brand-new modules it needs."""
    name = case.names[i]
    in_pkg = name.startswith(case.package + ".")
    version = case.version[i] = case.version.get(i, -1) + 1
    lines = [f"# {name} version {version}"]
    extra_files: dict[str, str] = {}
    lower = list(range(i))
    low = next((lo for lo, hi in case.cycles.items() if hi == i), None)
    if low is not None:
        # The high member of a cycle imports only below the low one (and the low one): a
        # cycle never grows by an edit, so every generated program imports cleanly. Cycles
        # an edit creates have their own tests in test_reload.py.
        lower = [j for j in lower if j < low]
    if i in case.reexport:
        # Re-exported submodules import only inside the package (cycles through the
        # package's __init__ have their own tests in test_reload.py).
        lower = [j for j in lower if j in case.reexport]
    deps = set(rng.sample(lower, k=min(len(lower), rng.randint(0, 3))))
    deps |= {low for low, high in case.cycles.items() if high == i}
    value_terms = [str(rng.randint(1, 9))]
    func_terms = [f"x * {rng.randint(1, 5)}"]
    base = "object"
    for j in sorted(deps, key=lambda _: rng.random()):
        dep = case.names[j]
        dep_in_pkg = dep.startswith(case.package + ".")
        styles = ["from", "import", "as"] + (["relative"] if in_pkg and dep_in_pkg else [])
        if j in case.cycles:
            styles.remove("import")  # `a.b.X` on a partially imported `a.b` fails
        style = rng.choice(styles)
        if style in ("from", "relative"):
            source = f".{dep.rsplit('.', 1)[1]}" if style == "relative" else dep
            lines.append(f"from {source} import C{j}, f{j}, K{j}")
            c, f, k = f"C{j}", f"f{j}", f"K{j}"
        elif style == "import":
            lines.append(f"import {dep}")
            c, f, k = f"{dep}.C{j}", f"{dep}.f{j}", f"{dep}.K{j}"
        else:
            lines.append(f"import {dep} as alias{j}")
            c, f, k = f"alias{j}.C{j}", f"alias{j}.f{j}", f"alias{j}.K{j}"
        value_terms.append(rng.choice([c, f"{f}(2)", f"{k}.v", f"{k}().get()"]))
        func_terms.append(rng.choice([c, f"{f}(x)", f"{k}.v"]))
        if base == "object" and rng.random() < 0.4:
            base = k
    if rng.random() < 0.25:
        case.new_modules += 1
        fresh = f"{case.key}_new{case.new_modules}"
        extra_files[_path(fresh)] = f"NEW = {rng.randint(10, 99)}\n"
        lines.append(f"from {fresh} import NEW as NEW{i}")
        value_terms.append(f"NEW{i}")
    get = f"self.v * {rng.randint(1, 3)} + C{i}"
    if base != "object":
        get += " + super().get()"
    lines += [
        f"C{i} = {' + '.join(value_terms)}",
        f"def f{i}(x):",
        f"    return {' + '.join(func_terms)}",
        f"class K{i}({base}):",
        f"    v = {rng.randint(1, 9)}",
        "    def get(self):",
        f"        return {get}",
    ]
    if rng.random() < 0.4:  # an enum: members come and go, change value, become aliases
        members = [m for m in "ABCDE" if rng.random() < 0.6] or ["A"]
        lines.insert(1, "import enum")
        lines.append(f"class S{i}(enum.Enum):")
        lines += [f"    {m} = {rng.randint(1, 4)}" for m in members]
        lines.append(f"DEF{i} = S{i}.{members[0]}")
    registering = []
    if rng.random() < 0.5:  # decorators that append to a list registry
        if rng.random() < 0.3:  # the name defined and registered twice: the last is bound
            registering += ["@register", f"def r{i}(x):", f"    return x - {rng.randint(1, 9)}"]
            decorators = ["@register"]
        else:  # by one to three registries, which an edit changes (drawn aside: the
            # other shapes stay those of the seed)
            side = random.Random(f"{case.key}/{i}/{version}")
            decorators = [d for d in ("@register", "@tag", "@mark") if side.random() < 0.6]
            side.shuffle(decorators)
        registering += [*(decorators or ["@register"]), f"def r{i}(x):"]
        registering.append(f"    return x + {rng.randint(1, 9)}")
    elif rng.random() < 0.4:  # the same function unregistered (a decorator comes and goes)
        registering += [f"def r{i}(x):", f"    return x + {rng.randint(1, 9)}"]
    if rng.random() < 0.4:  # a class-based decorator (a callable object)
        registering += ["@Cmd", f"def c{i}(x):", f"    return x * {rng.randint(1, 9)}"]
    subclass = rng.random()
    if subclass < 0.55:  # a subclass registry filled by __init_subclass__ (or a plain class)
        registering += [
            f"class P{i}(Plugin):" if subclass < 0.4 else f"class P{i}:",
            f"    v = {rng.randint(1, 9)}",
            "    def get(self):",
            f"        return self.v + {rng.randint(1, 9)}",
        ]
    # Instances registered as they are made, once or twice, in every version (drawn
    # aside, as above; a registration removed from the source stays: docs/limitations)
    made = random.Random(f"{case.key}/{i}/made")
    if made.random() < 0.3:
        value = random.Random(f"{case.key}/{i}/{version}/v").randint(1, 9)
        registering += [f"class I{i}(Made):", f"    v = {value}"]
        registering += [f"add(I{i}())"] * made.randint(1, 2)
    if registering:
        lines.insert(1, f"from {case.key}_reg import Cmd, Made, Plugin, add, mark, register, tag")
        lines += registering
    if rng.random() < 0.5:
        lines.append(f"E{i} = C{i} * {rng.randint(2, 5)}")  # a name that comes and goes
    if rng.random() < 0.3:  # a stub, then the definition (as ``@overload`` stubs go)
        lines += [f"def t{i}(x):", "    return None", f"def t{i}(x):", f"    return x + C{i}"]
    if rng.random() < 0.5:
        lines.append(f"L{i} = [f{i}, K{i}, C{i}]")
    if i in case.cycles:
        high = case.names[case.cycles[i]]
        lines += [f"def g{i}(x):", f"    return {high}.C{case.cycles[i]} + x", f"import {high}"]
    return "\n".join(lines) + "\n", extra_files


def _init_source(rng: random.Random, case: _Case) -> str:
    members = [i for i in case.reexport if rng.random() < 0.7]
    lines = [f"from .{case.names[i].rsplit('.', 1)[1]} import C{i}" for i in members]
    lines.append(f"PKG_TOTAL = {' + '.join([str(rng.randint(1, 9))] + [f'C{i}' for i in members])}")
    return "\n".join(lines) + "\n"


def _generate(seed: int, key: str) -> dict[str, object]:
    rng = random.Random(seed)
    n = rng.randint(5, 12)
    package = f"{key}_pkg"
    names = [f"{package}.m{i}" if rng.random() < 0.35 else f"{key}_m{i}" for i in range(n)]
    half = n // 2
    # Cycles stay above `half`, re-exports below it, so a fresh import starts each
    # cycle at its low member (the order hotmod re-executes cycles in).
    cycles: dict[int, int] = {}
    for _ in range(rng.randint(0, 2)):
        low, high = sorted(rng.sample(range(half, n), 2))
        taken = set(cycles) | set(cycles.values())
        if low not in taken and high not in taken:
            cycles[low] = high
    reexport = [i for i in range(half) if names[i].startswith(package + ".")]
    case = _Case(key, names, package, cycles, reexport)
    has_package = any(nm.startswith(package + ".") for nm in names)
    rounds: list[dict[str, object]] = []
    files: dict[str, str] = {f"{key}_reg.py": REGISTRY_SOURCE}
    for i in range(n):
        files[_path(names[i])], extra = _module_source(rng, case, i)
        files.update(extra)
    if has_package:
        files[f"{package}/__init__.py"] = _init_source(rng, case)
    rounds.append({"files": files, "targets": []})
    for _ in range(ROUNDS - 1):
        edited = sorted(rng.sample(range(n), k=rng.randint(1, 3)))
        files, targets = {}, []
        for i in edited:
            files[_path(names[i])], extra = _module_source(rng, case, i)
            files.update(extra)
            targets.append(names[i])
        if has_package and rng.random() < 0.3:
            files[f"{package}/__init__.py"] = _init_source(rng, case)
            targets.append(package)
        rounds.append({"files": files, "targets": targets})
    order = [f"{key}_reg", *names] + ([package] if has_package else [])
    return {"order": order, "rounds": rounds}


REGISTRY_SOURCE = """\
REG = []
CMDS = []
SUBS = {}
TAGS = []
MARKED = set()
MADE = []


def add(obj):
    MADE.append(obj)
    return obj


class Made:
    v = 0


def register(func):
    REG.append(func)
    return func


def tag(func):
    TAGS.append(func)
    return func


def mark(func):
    MARKED.add(func)
    return func


class Cmd:
    def __init__(self, func):
        self.func = func
        CMDS.append(self)

    def __call__(self, x):
        return self.func(x)


class Plugin:
    v = 0

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        SUBS[cls.__name__] = cls

    def get(self):
        return self.v
"""

CANON = """\
import enum, importlib, json, os, sys, types

def canon(value):
    if isinstance(value, enum.EnumMeta):
        home = sys.modules.get(value.__module__)
        return ["enum", value.__qualname__, getattr(home, value.__name__, None) is value,
                [[k, m.name, m.value] for k, m in value.__members__.items()]]
    if isinstance(value, enum.Enum):
        cls = type(value)
        home = sys.modules.get(cls.__module__)
        return ["member", cls.__qualname__, value.name, value.value,
                cls[value.name] is value, getattr(home, cls.__name__, None) is cls]
    if type(value).__name__ == "Cmd":
        return ["cmd", canon(value.func), value(3)]
    if any(c.__name__ == "Made" for c in type(value).__mro__[:-1]):
        return ["made", type(value).__qualname__, type(value).__module__, value.v]
    if getattr(value, "__name__", None) in ("register", "tag", "mark", "add"):
        return [value.__name__]  # calling it would register 3
    if isinstance(value, types.ModuleType):
        return ["module", value.__name__]
    if isinstance(value, type):
        home = sys.modules.get(value.__module__)
        return ["class", value.__qualname__, value.__module__,
                getattr(home, value.__name__, None) is value,
                [c.__qualname__ for c in value.__mro__], getattr(value, "v", None),
                value().get() if "get" in dir(value) else None]
    if callable(value):
        home = sys.modules.get(value.__module__)
        return ["function", value.__qualname__, value.__module__,
                getattr(home, value.__name__, None) is value, value(3)]
    if isinstance(value, list):
        return ["list", [canon(v) for v in value]]
    if isinstance(value, set):
        return ["set", sorted((canon(v) for v in value), key=json.dumps)]
    if isinstance(value, dict):  # a registry: its entries, whatever their order
        return ["dict", sorted(([k, canon(v)] for k, v in value.items()), key=json.dumps)]
    return ["value", repr(value)]

def snapshot(order):
    out = {}
    for name in order:
        module = sys.modules[name]
        out[name] = {k: canon(v) for k, v in sorted(vars(module).items())
                     if not k.startswith("_")}
        if name.endswith("_reg"):  # registries: as many entries as a fresh import makes
            for k in ("REG", "CMDS", "TAGS", "MADE"):
                out[name][k] = sorted(out[name][k][1], key=json.dumps)
    return out

def write(root, files):
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

DATA = json.load(open("cases.json"))
RESULTS = {}
"""

HOT = """
import hotmod
LOST = []  # enum members held from before a reload that are no longer the member
STALE = []  # functions held from before a reload that do not run their newest code
root = os.path.abspath("hot")
sys.path.insert(0, root)
for key, case in DATA.items():
    for r, step in enumerate(case["rounds"]):
        write(root, step["files"])
        if r == 0:
            importlib.invalidate_caches()
            for name in case["order"]:
                importlib.import_module(name)
            hotmod.dependents(case["order"][0])
        else:
            held = [(name, cls, member) for name in case["order"]
                    for cls in vars(sys.modules[name]).values()
                    if isinstance(cls, enum.EnumMeta) for member in cls]
            functions = [(name, key, f) for name in case["order"][1:]  # (not the registry's)
                         for key, f in vars(sys.modules[name]).items()
                         if type(f) is types.FunctionType and f.__module__ == name]
            report = hotmod.reload(*step["targets"])
            if not report.ok:
                RESULTS[f"{key}/{r}"] = f"reload failed: {report}"
                continue
            for name, cls, member in held:
                now = getattr(sys.modules[name], cls.__name__, None)
                if isinstance(now, enum.EnumMeta) and member._name_ in now._member_names_:
                    if now is not cls or now[member._name_] is not member:
                        LOST.append(f"{key}/{r}: {name}.{cls.__name__}.{member._name_}")
            for name, attr, function in functions:  # (what a reference held runs)
                now = getattr(sys.modules[name], attr, None)
                if type(now) is types.FunctionType and now.__module__ == name:
                    if function(3) != now(3) or function is not now:
                        STALE.append(f"{key}/{r}: {name}.{attr}")
        RESULTS[f"{key}/{r}"] = snapshot(case["order"])
print(json.dumps({"results": RESULTS, "lost": LOST, "stale": STALE}))
"""

FRESH = """
for key, case in DATA.items():
    files = {}
    for r, step in enumerate(case["rounds"]):
        files.update(step["files"])
        root = os.path.abspath(f"fresh/{key}_{r}")
        write(root, files)
        sys.path.insert(0, root)
        importlib.invalidate_caches()
        for name in case["order"]:
            importlib.import_module(name)
        RESULTS[f"{key}/{r}"] = snapshot(case["order"])
        sys.path.remove(root)
        for name in [n for n in sys.modules if n.startswith(key + "_")]:
            del sys.modules[name]
print(json.dumps(RESULTS))
"""


@pytest.mark.parametrize("batch", range(BATCHES))
def test_hot_reload_equals_fresh_import(project: Project, batch: int) -> None:
    data = {f"c{seed}": _generate(seed, f"c{seed}") for seed in _seeds(batch)}
    (project.root / "cases.json").write_text(json.dumps(data))
    out = json.loads(project.run_script(CANON + textwrap.dedent(HOT)))
    hot = out["results"]
    assert out["lost"] == [] and out["stale"] == []
    fresh = json.loads(project.run_script(CANON + textwrap.dedent(FRESH)))
    assert hot.keys() == fresh.keys()
    for key in fresh:
        if hot[key] != fresh[key]:
            case = data[key.split("/")[0]]
            sources = json.dumps(case, indent=1)
            diff = {
                mod: {
                    k: (hot[key].get(mod, {}).get(k), v) if isinstance(hot[key], dict) else None
                    for k, v in fresh[key][mod].items()
                    if not isinstance(hot[key], dict) or hot[key].get(mod, {}).get(k) != v
                }
                for mod in fresh[key]
            }
            raise AssertionError(
                f"case {key}: hot reload differs from a fresh import\n"
                f"hot: {hot[key] if isinstance(hot[key], str) else ''}\n"
                f"diff (hot, fresh): {json.dumps(diff, indent=1)}\n{sources}"
            )


def test_generator_covers_the_interesting_shapes() -> None:
    # The generator must actually produce what the module docstring promises.
    cases = [_generate(seed, f"c{seed}") for b in range(BATCHES) for seed in _seeds(b)]
    text = json.dumps(cases)
    sizes = [len([m for m in c["order"] if not m.endswith(("_pkg", "_reg"))]) for c in cases]  # type: ignore[attr-defined]
    assert min(sizes) >= 5 and max(sizes) <= 12, sizes
    assert sum("def g" in json.dumps(c) for c in cases) >= 5  # cases with an import cycle
    needles = ("from .m", "import C", "super().get()", "def g", "_new", "L", "E", "PKG_TOTAL")
    shapes = ("@register", "@tag", "@mark", "@Cmd", "(Plugin)", "(enum.Enum)", "DEF", "def t")
    for needle in (*needles, *shapes):
        assert needle in text, needle
    assert any(
        len(step["targets"]) > 1  # type: ignore[index]
        for c in cases
        for step in c["rounds"][1:]  # type: ignore[index]
    )
    sources = [t for c in cases for step in c["rounds"] for t in step["files"].values()]  # type: ignore[index, attr-defined]
    assert any(re.search(r"(?<!@register\n)^def r\d+\(x\)", t, re.M) for t in sources)
    assert any(re.search(r"^class P\d+:$", t, re.M) for t in sources)
