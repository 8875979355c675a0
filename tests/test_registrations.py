"""Real code: registries, process-wide side effects, stale code (SPEC section 4).

In-process: each test writes modules with unique names under tmp_path, imports them and
calls ``hotmod.reload`` three times, checking what a fresh import of the newest
sources would give.
"""

from __future__ import annotations

import ast
import collections.abc
import contextlib
import functools
import gc
import importlib
import logging
import random
import sys
import textwrap
import threading
import time
import typing
import warnings
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import hotmod
from conftest import Project


class Modules:
    """Modules written under a folder on sys.path, with edits between reloads."""

    def __init__(self, root: Path, prefix: str) -> None:
        self.root = root
        self.prefix = prefix

    def name(self, short: str) -> str:
        return f"{self.prefix}_{short}"

    def write(self, short: str, text: str) -> None:
        source = textwrap.dedent(text).replace("PFX_", f"{self.prefix}_")
        (self.root / f"{self.name(short)}.py").write_text(source)
        importlib.invalidate_caches()

    def load(self, short: str) -> Any:
        return importlib.import_module(self.name(short))

    def reload(self, short: str) -> hotmod.ReloadReport:
        report = hotmod.reload(self.name(short))
        assert report.ok, report.error
        return report


@pytest.fixture
def mods(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Modules]:
    sys.path.insert(0, str(tmp_path))
    dont_write = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    prefix = "m" + str(abs(hash(request.node.nodeid)))[:10]
    yield Modules(tmp_path, prefix)
    sys.dont_write_bytecode = dont_write


VERSIONS = ("v1", "v2", "v3")


def calls_to(
    monkeypatch: pytest.MonkeyPatch, name: str, module: str = "_registry"
) -> list[tuple[Any, ...]]:
    """The arguments of each call to ``hotmod.<module>.<name>`` from now on."""
    caller = importlib.import_module(f"hotmod.{module}")
    calls: list[tuple[Any, ...]] = []
    real = getattr(caller, name)
    monkeypatch.setattr(caller, name, lambda *a: calls.append(a) or real(*a))
    return calls


def test_a_list_registry_shared_by_modules_reloaded_together(
    mods: Modules, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before each module runs, its registries are copied for a rollback, and a copy of
    # the list holds every module's entry. Taken for registries by the modules after,
    # the copies were copied in turn: twice the work per module (8 s and 600 MB for 20
    # plugins of one settings module), and a walk of the heap for each.
    walks = calls_to(monkeypatch, "referrers", "_holders")
    mods.write(
        "registry", "HANDLERS = []\n\ndef register(f):\n    HANDLERS.append(f)\n    return f\n"
    )
    mods.write("settings", "DEBUG = False\n")
    plugin = """
        import PFX_settings
        from PFX_registry import register

        @register
        def handler{i}():
            return PFX_settings.DEBUG
    """
    for i in range(16):
        mods.write(f"plugin{i}", plugin.format(i=i))
    registry = mods.load("registry")
    plugins = [mods.load(f"plugin{i}") for i in range(16)]
    for debug in (True, False):
        mods.write("settings", f"DEBUG = {debug}\n")
        assert len(mods.reload("settings").reloaded) == 17
        handlers = [getattr(p, f"handler{i}") for i, p in enumerate(plugins)]
        assert handlers == registry.HANDLERS
        assert [handler() for handler in registry.HANDLERS] == [debug] * 16
    assert walks == []


def test_list_registry_holds_one_current_entry(mods: Modules) -> None:
    mods.write(
        "registry", "HANDLERS = []\ndef register(f):\n    HANDLERS.append(f)\n    return f\n"
    )
    plugin = """
        from PFX_registry import register

        @register
        def handle():
            return "{v}"
    """
    mods.write("plugin", plugin.format(v="v0"))
    registry, module = mods.load("registry"), mods.load("plugin")
    for version in VERSIONS:
        mods.write("plugin", plugin.format(v=version))
        mods.reload("plugin")
        assert [h() for h in registry.HANDLERS] == [version]
        assert registry.HANDLERS[0] is module.handle


def test_a_list_registry_follows_the_new_order_of_the_source(mods: Modules) -> None:
    # The module's entries keep their places among the others', filled in the order
    # the new source registers them (a fresh import's order, the others' aside).
    mods.write(
        "registry", "HANDLERS = []\ndef register(f):\n    HANDLERS.append(f)\n    return f\n"
    )
    mods.write("other", "from PFX_registry import register\n\n@register\ndef other():\n    pass\n")
    plugin = "from PFX_registry import register\n\n" + "".join(
        f"@register\ndef {name}():\n    pass\n\n" for name in ("{0}", "{1}", "{2}")
    )
    mods.write("plugin", plugin.format("a", "b", "c"))
    registry, module = mods.load("registry"), mods.load("plugin")
    other = mods.load("other")
    for order in (("c", "a", "b"), ("b", "c", "a"), ("a", "b", "c")):
        mods.write("plugin", plugin.format(*order))
        mods.reload("plugin")
        names = [getattr(module, name) for name in order]
        assert [*names, other.other] == registry.HANDLERS


def test_a_list_registry_follows_the_source_as_registrations_come_and_go(
    mods: Modules,
) -> None:
    # More or fewer registrations than before: the module's entries still read in its
    # new source's order, where its previous entries were (the others' stay put).
    mods.write(
        "registry", "HANDLERS = []\ndef register(f):\n    HANDLERS.append(f)\n    return f\n"
    )

    def source(names: str) -> str:
        body = "".join(f"@register\ndef {name}():\n    return '{name}'\n\n" for name in names)
        return "from PFX_registry import register\n\n" + body

    mods.write("first", "from PFX_registry import register\n\n@register\ndef first():\n    pass\n")
    mods.write("plugin", source("a"))
    mods.write("last", "from PFX_registry import register\n\n@register\ndef last():\n    pass\n")
    registry, before = mods.load("registry"), mods.load("first")
    module, after = mods.load("plugin"), mods.load("last")
    for names in ("ab", "ba", "cba", "ca", "b", "bdac", "a"):
        mods.write("plugin", source(names))
        mods.reload("plugin")
        mine = [getattr(module, name) for name in names]
        assert [before.first, *mine, after.last] == registry.HANDLERS, names
        assert [handler() for handler in mine] == list(names)


@pytest.mark.parametrize("after", [False, True], ids=["imported-first", "imported-last"])
def test_a_module_an_edit_first_imports_registers_where_a_fresh_import_puts_it(
    mods: Modules, after: bool
) -> None:
    # The new module runs inside its importer's run: its entries come before or after
    # those the importer registers, as the import is placed, as on a fresh import.
    mods.write("registry", "H = []\ndef r(f):\n    H.append(f)\n    return f\n")
    mods.write("first", "from PFX_registry import r\n@r\ndef first():\n    pass\n")
    mods.write("new", "from PFX_registry import r\n@r\ndef new():\n    pass\n")
    app = "import PFX_first\n{0}from PFX_registry import r\n@r\ndef app():\n    pass\n{1}"
    mods.write("app", app.format("", ""))
    registry, first, module = mods.load("registry"), mods.load("first"), mods.load("app")
    assert [first.first, module.app] == registry.H
    line = "import PFX_new\n"
    mods.write("app", app.format("", line) if after else app.format(line, ""))
    mods.reload("app")
    new = mods.load("new").new
    assert [first.first, *([module.app, new] if after else [new, module.app])] == registry.H


def test_dict_and_set_registries_and_callable_object_decorators(mods: Modules) -> None:
    mods.write(
        "registry",
        """
        import functools
        BY_NAME = {}
        SEEN = set()
        COMMANDS = []

        class Command:
            def __init__(self, func):
                self.func = func
                COMMANDS.append(self)
            def __call__(self):
                return self.func()

        class Wrapped:
            def __init__(self, func):
                functools.update_wrapper(self, func)
                self.func = func
                COMMANDS.append(self)
            def __call__(self):
                return self.func()

        def named(f):
            BY_NAME[f.__name__] = f
            SEEN.add(f)
            return f
        """,
    )
    plugin = """
        from PFX_registry import Command, Wrapped, named

        @named
        def a():
            return "a{v}"

        @Command
        def b():
            return "b{v}"

        @Wrapped
        def c():
            return "c{v}"
    """
    mods.write("plugin", plugin.format(v=0))
    registry, module = mods.load("registry"), mods.load("plugin")
    for version in VERSIONS:
        mods.write("plugin", plugin.format(v=version))
        mods.reload("plugin")
        assert list(registry.BY_NAME) == ["a"] and len(registry.SEEN) == 1
        assert registry.BY_NAME["a"] is module.a and registry.BY_NAME["a"]() == f"a{version}"
        assert [c() for c in registry.COMMANDS] == [f"b{version}", f"c{version}"]
        assert registry.COMMANDS[0] is module.b and registry.COMMANDS[1] is module.c


def test_registrations_wrapped_in_entries_of_their_own_are_made_once(mods: Modules) -> None:
    mods.write(
        "registry",
        """
        import functools
        ROUTES = []
        HOOKS = []
        JOBS = []

        class Route:
            def __init__(self, path, handler):
                self.path = path
                self.handler = handler

        def add(path, handler):
            ROUTES.append(Route(path, handler))

        def hook(priority, handler):
            HOOKS.append((priority, handler))

        def every(job, *args):
            JOBS.append(functools.partial(job, *args))
        """,
    )
    mods.write("first", "from PFX_registry import add\nadd('/first', lambda: 'first')\n")
    plugin = """
        from PFX_registry import add, every, hook

        def home():
            return "home {v}"

        def process(item):
            return "process " + item

        add("/", home)
        add("/about", lambda: "about {v}")
        hook(5, home)
        every(home)
    """
    mods.write("plugin", plugin.format(v=0))
    registry = mods.load("registry")
    mods.load("first")
    module = mods.load("plugin")
    # Added while running: stay, even one wrapping a function the module registers too.
    registry.JOBS.append(functools.partial(module.process, "x"))
    registry.JOBS.append(functools.partial(module.home))
    for version in VERSIONS:
        mods.write("plugin", plugin.format(v=version))
        mods.reload("plugin")
        routes = [(r.path, r.handler()) for r in registry.ROUTES]
        assert routes == [
            ("/first", "first"),
            ("/", f"home {version}"),
            ("/about", f"about {version}"),
        ]
        assert registry.ROUTES[1].handler is module.home
        assert len(registry.HOOKS) == 1 and registry.HOOKS[0][1] is module.home
        assert [job() for job in registry.JOBS] == [
            f"home {version}",
            "process x",
            f"home {version}",
        ]


def test_subclass_and_metaclass_registries_hold_the_kept_class(mods: Modules) -> None:
    mods.write(
        "base",
        """
        REGISTRY = {}
        ORDER = []

        class Plugin:
            def __init_subclass__(cls, **kw):
                super().__init_subclass__(**kw)
                REGISTRY[cls.__name__] = cls
                ORDER.append(cls)

        class Meta(type):
            made = []
            def __init__(cls, name, bases, ns):
                super().__init__(name, bases, ns)
                Meta.made.append(cls)
        """,
    )
    plugins = """
        from PFX_base import Meta, Plugin

        class A(Plugin):
            def name(self):
                return "A{v}"

        class B(metaclass=Meta):
            def name(self):
                return "B{v}"
    """
    mods.write("plugins", plugins.format(v=0))
    base, module = mods.load("base"), mods.load("plugins")
    old_a = module.A
    for version in VERSIONS:
        mods.write("plugins", plugins.format(v=version))
        mods.reload("plugins")
        assert module.A is old_a
        assert base.REGISTRY["A"] is module.A and base.ORDER == [module.A]
        assert base.Meta.made == [module.B]
        assert base.REGISTRY["A"]().name() == f"A{version}"


@pytest.mark.parametrize("big", [False, True], ids=["parsed", "in pieces"])
def test_a_registry_of_subclasses_in_the_same_module_holds_the_kept_classes(
    mods: Modules, monkeypatch: pytest.MonkeyPatch, big: bool
) -> None:
    # The run makes each class anew, and __init_subclass__ (or the metaclass) stores
    # that one before it is given up for the kept class: in a registry the run made
    # too, a class attribute, a list, keyed by the class. In pieces (a big source, its
    # plain classes kept once their piece ran), the last piece's class too.
    if big:
        from hotmod import _tracker

        monkeypatch.setattr(_tracker, "BIG", 0)
    source = """
        class Plugin:
            registry = {{}}

            def __init_subclass__(cls, **kw):
                super().__init_subclass__(**kw)
                Plugin.registry[cls.__name__] = cls
                ORDER.append(cls)
                BY_CLASS[cls] = cls.__name__

        ORDER = []
        BY_CLASS = {{}}

        class A(Plugin):
            def name(self):
                return "A{v}"

        class B(A):
            pass
    """
    mods.write("plugins", source.format(v=0))
    module = mods.load("plugins")
    old_a, old_b = module.A, module.B
    instance = module.Plugin.registry["A"]()
    for version in VERSIONS:
        mods.write("plugins", source.format(v=version))
        mods.reload("plugins")
        assert module.A is old_a and module.B is old_b
        assert module.Plugin.registry == {"A": old_a, "B": old_b}
        assert module.Plugin.registry["A"] is old_a and module.Plugin.registry["B"] is old_b
        assert module.ORDER[0] is old_a and module.ORDER[1] is old_b
        assert [type(k) for k in module.BY_CLASS] == [type, type]
        assert next(iter(module.BY_CLASS)) is old_a and module.BY_CLASS[old_b] == "B"
        made = module.Plugin.registry["A"]()
        assert isinstance(made, module.A) and isinstance(instance, module.A)
        assert made.name() == f"A{version}"


def test_singledispatch_registrations_run_the_new_code(mods: Modules) -> None:
    mods.write(
        "fmt",
        "import functools\n@functools.singledispatch\ndef show(x):\n    return 'any'\n",
    )
    ext = """
        from PFX_fmt import show

        @show.register(int)
        def _(x):
            return "int {v}"
    """
    mods.write("ext", ext.format(v=0))
    fmt = mods.load("fmt")
    mods.load("ext")
    for version in VERSIONS:
        mods.write("ext", ext.format(v=version))
        mods.reload("ext")
        assert fmt.show(1) == f"int {version}" and fmt.show("s") == "any"
        assert len(fmt.show.registry) == 2


def test_a_copy_of_the_namespace_made_while_it_runs_keeps_no_previous_object(
    mods: Modules,
) -> None:
    # attrs copies the module's namespace into the globals of the methods it writes,
    # while the module runs: the hooks hotmod put there must not hold the transaction
    # (and with it every object the reload replaced).
    source = """
        class Base:
            pass

        class Other:
            pass

        class Thing({base}):
            pass

        SNAPSHOT = {{k: v for k, v in globals().items() if k != "SNAPSHOT"}}
    """
    mods.write("snap", source.format(base="Base"))
    module = mods.load("snap")
    previous = weakref.ref(module.Thing)
    mods.write("snap", source.format(base="Other"))  # (new bases: a new class)
    mods.reload("snap")
    assert module.Thing.__bases__ == (module.Other,)
    gc.collect()
    assert previous() is None


def test_a_copy_of_the_namespace_is_not_taken_for_a_registry(mods: Modules) -> None:
    # attrs copies the module's namespace into the globals of each method it writes: a
    # copy holds the module's classes, as a registry would, and each reload makes more.
    # Kept as registries, the copies (and what they held: here the run's token) lived
    # on, and the program grew at every reload.
    source = """
        from attrs import define

        class Token:
            pass

        TOKEN = Token()

        @define
        class Point:
            x: int = 0

            def value(self):
                return {v}

        @define
        class Line:
            start: Point = Point()
    """
    mods.write("copied", source.format(v=0))
    module = mods.load("copied")
    held = [module.Point(1)]  # (an instance the program keeps)
    tokens = [weakref.ref(module.TOKEN)]
    for version in range(1, 4):
        mods.write("copied", source.format(v=version))
        # (attrs' methods are written anew on each run, by design: no note about them)
        assert mods.reload("copied").notes == []
        assert held[0].value() == version and module.Point(2) != held[0]
        tokens.append(weakref.ref(module.TOKEN))
    gc.collect()
    assert [token() is None for token in tokens] == [True, True, True, False]


def test_a_lazy_proxy_a_decorator_returns_is_not_evaluated(mods: Modules) -> None:
    # Celery's ``@shared_task`` returns such a proxy: evaluated, it looks its task up,
    # which fails while the module that makes the task runs again.
    mods.write(
        "lazy",
        """
        class Proxy:
            def __init__(self, func):
                object.__setattr__(self, "_func", func)

            def _evaluate(self):
                raise LookupError("evaluated")

            @property
            def __class__(self):
                return type(self._evaluate())

            def __getattr__(self, name):
                return getattr(self._evaluate(), name)
        """,
    )
    tasks = """
        from PFX_lazy import Proxy

        @Proxy
        def job():
            return "{v}"
    """
    mods.write("tasks", tasks.format(v=0))
    mods.load("lazy")
    module = mods.load("tasks")
    for version in VERSIONS:
        mods.write("tasks", tasks.format(v=version))
        assert mods.reload("tasks").ok
        assert module.job._func() == version


def test_a_class_replaced_takes_its_previous_versions_place_in_a_registry(
    mods: Modules,
) -> None:
    # Its bases changed: a new class (identity cannot be kept), which __init_subclass__
    # registers again. The previous one ran its old methods from the list, unreported
    # after the first reload; a fresh import has the new class alone, in its place.
    mods.write(
        "reg",
        """
        PLUGINS = []
        KINDS = set()

        class Base:
            def __init_subclass__(cls, **kwargs):
                super().__init_subclass__(**kwargs)
                PLUGINS.append(cls)
                KINDS.add(cls)

        class Mixin:
            pass
        """,
    )
    source = """
        from PFX_reg import Base, Mixin

        class First(Base):
            pass

        class Plugin({bases}):
            def run(self):
                return "{v}"

        class Last(Base):
            pass
    """
    mods.write("plugins", source.format(bases="Base", v="v0"))
    reg = mods.load("reg")
    plugins = mods.load("plugins")
    for version, bases in zip(VERSIONS, ("Base, Mixin", "Base, Mixin", "Base"), strict=True):
        mods.write("plugins", source.format(bases=bases, v=version))
        mods.reload("plugins")
        assert [plugins.First, plugins.Plugin, plugins.Last] == reg.PLUGINS
        assert {plugins.First, plugins.Plugin, plugins.Last} == reg.KINDS
        assert plugins.Plugin().run() == version


def test_a_function_a_factory_made_and_registered_is_not_registered_twice(
    mods: Modules,
) -> None:
    mods.write(
        "reg",
        """
        HANDLERS = []

        def make_handler(tag):
            def handler():
                return tag
            HANDLERS.append(handler)
            return handler
        """,
    )
    source = "from PFX_reg import make_handler\n\nhello = make_handler('{v}')\n"
    mods.write("plugins", source.format(v="v0"))
    reg = mods.load("reg")
    plugins = mods.load("plugins")
    for version in VERSIONS:
        mods.write("plugins", source.format(v=version))
        assert mods.reload("plugins").stale == []
        assert [plugins.hello] == reg.HANDLERS
        assert plugins.hello() == version


def test_a_singledispatch_registration_removed_from_the_source_is_gone(
    mods: Modules,
) -> None:
    # Its registry is a dict behind a mappingproxy in the function's attributes; the
    # dispatch cache still held the removed function for a type called before.
    mods.write(
        "fmt",
        "import functools\n\n@functools.singledispatch\ndef show(x):\n    return 'any'\n",
    )
    ext = "from PFX_fmt import show\n\n{body}"
    mods.write("ext", ext.format(body="@show.register(int)\ndef _(x):\n    return 'int'\n"))
    fmt = mods.load("fmt")
    mods.load("ext")
    assert fmt.show(1) == "int"  # (int is in the dispatch cache now)
    mods.write("ext", ext.format(body="X = 1\n"))
    assert mods.reload("ext").stale == []
    assert fmt.show(1) == "any" and len(fmt.show.registry) == 1


def test_a_registration_removed_after_the_dispatching_module_ran_again_is_gone(
    mods: Modules,
) -> None:
    # The dispatching module's run made a new registry, and the extension registered
    # there again: the registry its first reload found (the previous one) is not where
    # its registration now is.
    fmt_source = "import functools\n\n@functools.singledispatch\ndef show(x):\n    return '{v}'\n"
    mods.write("fmt", fmt_source.format(v="any"))
    ext = "from PFX_fmt import show\n\n{body}"
    mods.write("ext", ext.format(body="@show.register(float)\ndef _f(x):\n    return 'float'\n"))
    fmt = mods.load("fmt")
    mods.load("ext")
    mods.write("fmt", fmt_source.format(v="any2"))
    assert mods.name("ext") in mods.reload("fmt").reloaded
    assert fmt.show(1.5) == "float" and fmt.show(1) == "any2"
    mods.write("ext", ext.format(body="X = 1\n"))
    assert mods.reload("ext").stale == []
    assert fmt.show(1.5) == "any2" and sorted(t.__name__ for t in fmt.show.registry) == ["object"]


def test_process_wide_side_effects_do_not_pile_up(mods: Modules) -> None:
    source = """
        import logging, warnings
        log = logging.getLogger("PFX_logger")
        log.addHandler(logging.NullHandler())
        log.addFilter(lambda record: True)
        warnings.filterwarnings("ignore", message="PFX_message {v}")
    """
    mods.write("effects", source.format(v=0))
    nfilters = len(warnings.filters)
    mods.load("effects")
    logger = logging.getLogger(mods.name("logger"))
    try:
        for version in VERSIONS:
            mods.write("effects", source.format(v=version))
            mods.reload("effects")
            assert len(logger.handlers) == 1 and len(logger.filters) == 1
            assert len(warnings.filters) == nfilters + 1
            assert warnings.filters[0][1].pattern.endswith(version)  # type: ignore[union-attr]
    finally:
        for f in list(warnings.filters):
            if f[1] is not None and mods.prefix in f[1].pattern:
                warnings.filters.remove(f)
        logger.handlers.clear()
        logger.filters.clear()


def test_a_folder_added_to_sys_path_is_there_once(
    mods: Modules, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib, other, extra = (str(tmp_path / name) for name in ("lib", "other", "extra"))
    monkeypatch.setattr(sys, "path", list(sys.path))  # (put back after the test)
    source = f"import sys\nsys.path.append({lib!r})\nsys.path.insert(0, {other!r})\nV = {{}}\n"
    mods.write("paths", source.format(0))
    module = mods.load("paths")
    before = list(sys.path)
    for version in (1, 2):
        mods.write("paths", source.format(version))
        mods.reload("paths")
        assert (sys.path, module.V) == (before, version)
    # A failed run's folders go with it.
    mods.write("paths", source.format(3) + f"sys.path.append({extra!r})\nraise RuntimeError\n")
    assert not hotmod.reload(mods.name("paths")).ok
    assert (sys.path, module.V) == (before, 2)


@pytest.mark.parametrize("stdlib", ["early", "late"])
def test_registrations_of_the_first_import_are_taken_back(project: Project, stdlib: str) -> None:
    # Made before any reloader existed; logging and signal imported before or after hotmod.
    project.scenario("registrations_first_import")
    out = project.run_driver(args=[stdlib])
    assert out.splitlines() == ["usr1 3", "bye 3"], out


def test_atexit_handlers_and_on_reload_callbacks_run_once(project: Project) -> None:
    project.scenario("registrations_atexit_and_on_reload")
    out = project.run_driver()
    assert out.count("bye") == 1 and "bye 3" in out, out
    assert [line for line in out.splitlines() if line.startswith("reloaded")] == [
        "reloaded 1",
        "reloaded 2",
        "reloaded 3",
    ], out


def test_failed_reload_restores_side_effects(mods: Modules) -> None:
    source = """
        import logging
        logging.getLogger("PFX_logger").addHandler(logging.NullHandler())
        {tail}
    """
    mods.write("effects", source.format(tail=""))
    mods.load("effects")
    logger = logging.getLogger(mods.name("logger"))
    before = list(logger.handlers)
    mods.write("effects", source.format(tail="raise RuntimeError('boom')"))
    report = hotmod.reload(mods.name("effects"))
    assert not report.ok and isinstance(report.error, RuntimeError)
    assert logger.handlers == before
    mods.write("effects", source.format(tail="X = 1"))
    mods.reload("effects")
    assert len(logger.handlers) == 1
    logger.handlers.clear()


def test_a_filter_made_inside_catch_warnings_is_not_put_back_for_good(mods: Modules) -> None:
    # It lives as long as its block. A failed reload puts back what the module's last
    # run registered, and this filter must not come back outside its block: "ignore"
    # would silence every warning of the process.
    source = """
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            X = 1
        {tail}
    """
    mods.write("quiet", source.format(tail=""))
    mods.load("quiet")
    before = list(warnings.filters)
    mods.write("quiet", source.format(tail="raise RuntimeError('boom')"))
    report = hotmod.reload(mods.name("quiet"))
    assert not report.ok and isinstance(report.error, RuntimeError)
    assert warnings.filters == before


def test_failed_reload_takes_back_what_its_run_registered(mods: Modules) -> None:
    mods.write(
        "registry",
        """
        HANDLERS = []
        NAMED = {}
        ROUTES = []

        class Route:
            def __init__(self, handler):
                self.handler = handler

        def register(f):
            HANDLERS.append(f)
            NAMED[f.__name__] = f
            ROUTES.append(Route(f))
            return f
        """,
    )
    plugin = """
        from PFX_registry import register

        @register
        def handle():
            return "{v}"
        {tail}
    """
    mods.write("plugin", plugin.format(v="v1", tail=""))
    registry, module = mods.load("registry"), mods.load("plugin")
    mods.write("plugin", plugin.format(v="v2", tail="raise RuntimeError('boom')"))
    report = hotmod.reload(mods.name("plugin"))
    assert not report.ok and isinstance(report.error, RuntimeError)
    assert [module.handle] == registry.HANDLERS and module.handle() == "v1"
    assert {"handle": module.handle} == registry.NAMED and len(registry.ROUTES) == 1
    mods.write("plugin", plugin.format(v="v3", tail=""))
    mods.reload("plugin")
    assert [module.handle] == registry.HANDLERS and module.handle() == "v3"
    assert [route.handler() for route in registry.ROUTES] == ["v3"]


@pytest.mark.parametrize("registered", [False, True], ids=["none-before", "one-before"])
def test_a_failed_run_takes_out_the_new_functions_it_registered(
    mods: Modules, registered: bool
) -> None:
    # Functions, classes and a class-based decorator's instance the failed run made
    # under names the module never bound, in registries the module had nothing in, or
    # beside its one registered function; and the entries wrapping them, or instances
    # of them.
    mods.write(
        "registry",
        """
        A, S, D, ROUTES, COMMANDS = [], set(), {}, [], []

        def a(f):
            A.append(f)
            return f

        class Route:
            def __init__(self, path, handler):
                self.path, self.handler = path, handler

        def route(path):
            def decorate(f):
                ROUTES.append(Route(path, f))
                return f
            return decorate

        class Command:
            def __init__(self, f):
                self.f = f
                COMMANDS.append(self)
        """,
    )
    old = "from PFX_registry import Command, a, route, A, S, D\n\n"
    old += ("@a\n@route('/')\n@Command\n" if registered else "") + "def home():\n    return 1\n"
    mods.write("plugin", old)
    registry, module = mods.load("registry"), mods.load("plugin")
    before = [list(registry.A), list(registry.ROUTES), list(registry.COMMANDS)]
    new = """
        @a
        def new():
            pass

        @route("/new")
        def page():
            pass

        @Command
        def run():
            pass

        S.add(new)
        D["new"] = new

        class Added:
            pass

        S.add(Added)
        A.append(Added())  # (an instance of a new class: made by the failed run)
        raise RuntimeError("boom")
    """
    mods.write("plugin", old + textwrap.dedent(new))
    assert not hotmod.reload(mods.name("plugin")).ok
    assert before == [registry.A, registry.ROUTES, registry.COMMANDS]
    assert (set(), {}) == (registry.S, registry.D)
    assert not hasattr(module, "new") and len(registry.ROUTES) == len(registry.A) == registered


def test_a_module_a_failed_run_imported_first_takes_its_registrations_with_it(
    mods: Modules,
) -> None:
    mods.write("registry", "H = []\nS = set()\ndef r(f):\n    H.append(f)\n    return f\n")
    new = """
        from PFX_registry import r, S

        @r
        def handler():
            pass

        class Kind:
            pass

        S.add(Kind)
    """
    mods.write("new", new)
    app = "import PFX_registry\n{}X = {}\n"
    mods.write("app", app.format("", 1))
    registry, module = mods.load("registry"), mods.load("app")
    mods.write("app", app.format("import PFX_new\n", 2) + "raise RuntimeError('boom')\n")
    assert not hotmod.reload(mods.name("app")).ok
    assert mods.name("new") not in sys.modules and module.X == 1
    assert ([], set()) == (registry.H, registry.S)
    mods.write("app", app.format("import PFX_new\n", 3))
    mods.reload("app")
    made = sys.modules[mods.name("new")]
    assert ([made.handler], {made.Kind}) == (registry.H, registry.S)


def test_stale_code_is_reported_with_its_holder(mods: Modules, caplog: Any) -> None:
    mods.write("registry", "HOLD = []\n")
    source = """
        from PFX_registry import HOLD

        class Shape{bases}:
            def name(self):
                return "{v}"

        HOLD.append(Shape.name)
    """
    mods.write("shapes", source.format(bases="", v="old"))
    registry = mods.load("registry")
    mods.load("shapes")
    held = registry.HOLD[0]
    # the class layout changes (new bases): the old class and its method are replaced
    mods.write("shapes", source.format(bases="(Exception)", v="new"))
    with caplog.at_level(logging.WARNING, logger="hotmod"):
        report = mods.reload("shapes")
    assert held in registry.HOLD
    assert report.stale and "Shape" in report.stale[0] and "HOLD" in report.stale[0], report.stale
    assert "previous code still reachable" in caplog.text
    assert "still running previous code" in str(report)


STALE_SHAPES = """
    class Shape{bases}:
        def name(self):
            return "{v}"
"""


def _reload_discarding_shape(mods: Modules, registry: str, monkeypatch: Any) -> list[str]:
    """Load ``registry`` and shapes, the program giving Shape to ``registry.keep`` (a
    registration the module's own run does not make again), change Shape's bases so
    that a new class replaces it; the collector's calls from then on."""
    import hotmod._audit

    mods.write("registry", registry)
    mods.write("shapes", STALE_SHAPES.format(bases="", v="old"))
    mods.load("registry").keep(mods.load("shapes").Shape)
    mods.write("shapes", STALE_SHAPES.format(bases="(Exception)", v="new"))
    collections: list[str] = []
    real_collect = hotmod._audit.gc.collect

    def collect(*args: Any) -> int:
        collections.append(f"collect{args}")  # "collect()": the whole heap
        return real_collect(*args)

    monkeypatch.setattr(hotmod._audit.gc, "collect", collect)
    return collections


@pytest.mark.parametrize(
    ("registry", "holder"),
    [
        ("HELD = []\ndef keep(cls):\n    HELD.append(cls)\n", "registry.HELD[0]"),
        (
            "class App:\n    def __init__(self):\n        self.kinds = {}\n"
            "app = App()\ndef keep(cls):\n    app.kinds[f'v{len(app.kinds)}'] = cls\n",
            "App.kinds['v0']",
        ),
        (
            "class Plugins:\n    found = set()\ndef keep(cls):\n    Plugins.found.add(cls)\n",
            "Plugins.found",
        ),
        (
            "class Slot:\n    pass\ncurrent = Slot()\ndef keep(cls):\n"
            "    if not hasattr(current, 'first'):\n        current.first = cls\n",
            "Slot.first",
        ),
    ],
    ids=[
        "module-global list",
        "attribute of a module global",
        "class attribute",
        "bound to an attribute",
    ],
)
def test_a_registry_in_module_globals_names_the_stale_holder_without_a_collection(
    mods: Modules, monkeypatch: Any, registry: str, holder: str
) -> None:
    collections = _reload_discarding_shape(mods, registry, monkeypatch)
    report = mods.reload("shapes")
    assert len(report.stale) == 1, report.stale
    assert report.stale[0].endswith(f"held by {mods.name(holder)}") or report.stale[0].endswith(
        f"held by {holder}"
    ), report.stale
    assert collections == []  # found by reading the globals: no full garbage collection


def test_a_holder_out_of_module_globals_is_found_by_the_collector(
    mods: Modules, monkeypatch: Any
) -> None:
    # The list lives only in a closure: no module global reaches it directly.
    registry = """
        def _make():
            held = []
            return held.append
        keep = _make()

        class Proxy:  # a global that raises on any attribute (werkzeug's request)
            def __getattribute__(self, name):
                raise RuntimeError("working outside of a request")
        request = Proxy()
    """
    collections = _reload_discarding_shape(mods, textwrap.dedent(registry), monkeypatch)
    report = mods.reload("shapes")
    assert len(report.stale) == 1 and "held by a list[0]" in report.stale[0], report.stale
    assert collections  # the collector had to answer


@contextlib.contextmanager
def _no_collection() -> Iterator[None]:
    """No garbage collection meanwhile: as between two saves of a program that allocates
    little, what a reload left in a cycle is still there at the next one."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _audit_walks(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The audit's walks of the heap from now on (what each looked for)."""
    import hotmod._audit

    walks: list[Any] = []
    real = hotmod._audit.referrers

    def counted(objects: Any) -> list[Any]:
        walks.append(objects)
        return real(objects)

    monkeypatch.setattr(hotmod._audit, "referrers", counted)
    return walks


# Classes that refer to themselves in many ways (their __mro__, the descriptors of
# __dict__ and slots, the __class__ cell super() shares among methods, members that are
# their instances, a subclass's bases): renamed on each edit, so each reload discards
# the previous one.
SELF_REFERRING = {
    "plain": "class Shape{v}:\n    def name(self):\n        return {v}\n",
    "super() in two methods": (
        "class Base{v}:\n    def name(self):\n        return 0\n\n"
        "class Shape{v}(Base{v}):\n"
        "    def name(self):\n        return super().name() + {v}\n"
        "    def again(self):\n        return super().name()\n"
    ),
    "accessors": (
        "class Shape{v}:\n"
        "    @property\n    def size(self):\n        return __class__\n"
        "    @classmethod\n    def make(cls):\n        return cls()\n"
        "    @staticmethod\n    def unit():\n        return {v}\n"
        "    alias = make\n"
    ),
    "slots": "class Shape{v}:\n    __slots__ = ('a', 'b')\n",
    "enum": "import enum\n\nclass Color{v}(enum.Enum):\n    RED = 1\n    BLUE = 2\n",
    "dataclass": (
        "import dataclasses\n\n@dataclasses.dataclass(frozen=True)\n"
        "class Point{v}:\n    x: int = {v}\n"
    ),
}


@pytest.mark.parametrize("shape", SELF_REFERRING)
def test_a_discarded_class_nothing_holds_costs_no_walk_of_the_heap(
    mods: Modules, monkeypatch: Any, shape: str
) -> None:
    # What a class is made of refers back to it; counted, those references tell that
    # nothing else holds it, where asking the collector walks the whole heap (100 ms
    # beside two million objects, on every reload that renames or deletes a class).
    walks = _audit_walks(monkeypatch)
    mods.write("shapes", SELF_REFERRING[shape].format(v=0))
    mods.load("shapes")
    for v in (1, 2):
        mods.write("shapes", SELF_REFERRING[shape].format(v=v))
        assert mods.reload("shapes").stale == []
    assert walks == []


@pytest.mark.parametrize("held", ["g0", "Shape0", "Shape0.name", "Color0", "Color0.RED"])
def test_previous_code_held_once_is_reported(mods: Modules, held: str) -> None:
    # One holder the audit cannot see in module globals (a closure's list): its one
    # reference is all that tells the object is held.
    mods.write(
        "registry", "def _make():\n    held = []\n    return held.append\n\nkeep = _make()\n"
    )
    source = """
        import enum

        from PFX_registry import keep

        class Color{v}(enum.Enum):  # (its members refer to it, through their dicts too)
            RED = 1
            BLUE = 2

        def g{v}():
            return {v}

        class Shape{v}:  # (one __class__ cell, shared by both methods)
            def name(self):
                return __class__

            def again(self):
                return __class__

        keep({held})
    """
    mods.write("shapes", source.format(v=0, held=held))
    mods.load("shapes")
    mods.write("shapes", source.format(v=1, held="None"))
    report = mods.reload("shapes")
    assert [line.split()[0] for line in report.stale] == [f"{mods.name('shapes')}.{held}"]
    assert report.stale[0].endswith("held by a list[0]"), report.stale


def test_a_failure_fixed_leaves_nothing_held_by_its_rollback(mods: Modules) -> None:
    # A failed reload's report is kept (error pages show it until a reload succeeds),
    # and its traceback's frames held the rolled-back transaction: once the fix
    # applied, the renamed function was reported "held by auth['login']" (a snapshot).
    mods.write("auth", "def login():\n    return 0\n")
    mods.write("blog", "from PFX_auth import login\n")
    auth = mods.load("auth")
    mods.load("blog")
    renamed = weakref.ref(auth.login)
    mods.write("auth", "def signin():\n    return 1\n")
    failed = hotmod.reload(mods.name("auth"))
    assert not failed.ok and isinstance(failed.error, ImportError)
    mods.write("blog", "from PFX_auth import signin\n")
    assert mods.reload("auth").stale == []
    gc.collect()
    assert renamed() is None


def test_what_a_discarded_class_inherits_is_not_its_previous_code(mods: Modules) -> None:
    # An Enum's dict holds Enum's own __new__: not code of the module reloaded.
    mods.write("colors", "import enum\n\nclass Color0(enum.Enum):\n    RED = 1\n")
    mods.load("colors")
    mods.write("colors", "import enum\n\nclass Color1(enum.Enum):\n    RED = 1\n")
    assert mods.reload("colors").stale == []


LET_GO = {
    # An event loop tidying up a request answered a moment ago still holds its scope.
    "the holder itself": """
        def _make():
            held = []
            return held.append, held.clear
        keep, let_go = _make()
    """,
    # A previous app (werkzeug's request thread finishing) holds its registry; once it
    # lets go, only hotmod's own cache of registries holds that.
    "the owner of a registry": """
        def _make():
            app = {"kinds": []}
            def keep(cls):
                app["kinds"].append(cls)
            return keep, app.clear
        keep, let_go = _make()
    """,
}


@pytest.mark.parametrize("who", LET_GO)
def test_a_holder_let_go_right_after_the_commit_is_not_reported(
    mods: Modules, monkeypatch: Any, who: str
) -> None:
    # Another thread lets go just after the audit first looks: it looks once more, a
    # moment later.
    import hotmod._audit

    _reload_discarding_shape(mods, textwrap.dedent(LET_GO[who]), monkeypatch)
    reg = sys.modules[mods.name("registry")]
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        reg.let_go()  # what the other thread does meanwhile

    monkeypatch.setattr(hotmod._audit.time, "sleep", pause)
    report = mods.reload("shapes")
    assert report.stale == [] and len(pauses) == 1


def test_no_stale_report_when_identity_is_kept(mods: Modules) -> None:
    mods.write("shapes", "class Shape:\n    def name(self):\n        return 'a'\n")
    mods.load("shapes")
    mods.write("shapes", "class Shape:\n    def name(self):\n        return 'b'\n")
    assert mods.reload("shapes").stale == []


def test_names_bound_through_the_module_object_are_kept(mods: Modules) -> None:
    source = """
        import sys
        sys.modules[__name__].DEBUG = {v}
        setattr(sys.modules[__name__], "LEVEL", {v})
        globals()["MODE"] = {v}
        VALUE = {v}
    """
    mods.write("cfg", source.format(v=1))
    module = mods.load("cfg")
    for version in (2, 3):
        mods.write("cfg", source.format(v=version))
        mods.reload("cfg")
        assert (version,) * 4 == (module.DEBUG, module.LEVEL, module.MODE, module.VALUE)


def test_module_removing_itself_from_sys_modules_rolls_back_exactly(mods: Modules) -> None:
    mods.write("selfish", "X = 1\n")
    module = mods.load("selfish")
    name = mods.name("selfish")
    mods.write("selfish", "import sys\nX = 2\ndel sys.modules[__name__]\nraise ValueError('no')\n")
    report = hotmod.reload(name)
    assert not report.ok
    assert sys.modules[name] is module and module.X == 1
    mods.write("selfish", "import sys\nX = 3\ndel sys.modules[__name__]\n")
    report = hotmod.reload(name)
    assert report.ok and module.X == 3 and name not in sys.modules  # as a fresh import


def test_module_replacing_its_entry_by_a_copy_of_itself_runs_the_new_code(
    mods: Modules,
) -> None:
    # Its functions read the namespace the import ran in, not the copy's: kept in
    # place, one would run its new code against the previous namespace (V == 0).
    source = """
        import sys
        import types

        V = {v}

        def helper():
            return V

        _copy = types.ModuleType(__name__)
        _copy.__dict__.update(globals())
        sys.modules[__name__] = _copy
    """
    mods.write("copied", source.format(v=0))
    mods.write("user", "from PFX_copied import helper\n\ndef use():\n    return helper()\n")
    user = mods.load("user")
    name = mods.name("copied")
    for v in (1, 2):
        mods.write("copied", source.format(v=v))
        report = hotmod.reload(name)
        assert report.ok, report.error
        entry = sys.modules[name]
        assert (entry.helper(), entry.V, user.use()) == (v, v, v)
        assert "its globals are another namespace than before" in report.notes[0]
        assert not [k for k in vars(entry) if k.startswith("__hotmod")]  # no hook copied


def test_a_module_whose_entry_is_not_a_module_is_refused_with_the_reason(
    mods: Modules,
) -> None:
    mods.write(
        "wrapped",
        """
        import sys

        class Wrapper:
            def __init__(self, module):
                self._module = module

        sys.modules[__name__] = Wrapper(sys.modules[__name__])
        """,
    )
    mods.load("wrapped")
    with pytest.raises(ValueError, match="entry is a Wrapper object, not a module"):
        hotmod.reload(mods.name("wrapped"))


def test_frozen_dataclass_instance_and_ctypes_structure_reload(mods: Modules) -> None:
    source = """
        import ctypes
        import dataclasses

        @dataclasses.dataclass(frozen=True)
        class Point:
            x: int
            def label(self):
                return "{v}"

        ORIGIN = Point(0)

        class Pair(ctypes.Structure):
            _fields_ = [("a", ctypes.c_int), ("b", ctypes.c_int)]
            def total(self):
                return self.a + self.b + {n}
    """
    mods.write("shapes", source.format(v="old", n=0))
    module = mods.load("shapes")
    pair = module.Pair(1, 2)
    for n, version in enumerate(VERSIONS, 1):
        mods.write("shapes", source.format(v=version, n=n))
        mods.reload("shapes")
        assert module.ORIGIN.label() == version
        assert pair.total() == 3 + n and isinstance(pair, module.Pair)


def test_namedtuple_field_reorder_never_misreads(mods: Modules) -> None:
    mods.write(
        "rec", "from typing import NamedTuple\nclass Rec(NamedTuple):\n    a: int\n    b: str\n"
    )
    module = mods.load("rec")
    existing = module.Rec(1, "x")
    mods.write(
        "rec", "from typing import NamedTuple\nclass Rec(NamedTuple):\n    b: str\n    a: int\n"
    )
    report = mods.reload("rec")
    assert (existing.a, existing.b) == (1, "x")
    assert module.Rec("y", 2).a == 2
    assert any("fields changed" in note for note in report.notes)


def test_custom_source_transforming_loader_is_used(mods: Modules) -> None:
    import importlib.machinery
    import importlib.util

    class Shouting(importlib.machinery.SourceFileLoader):
        def source_to_code(self, data: Any, path: Any, *, _optimize: int = -1) -> Any:  # type: ignore[override]
            text = data.decode() if isinstance(data, bytes) else data
            return compile(text.replace("quiet", "LOUD"), path, "exec", dont_inherit=True)

    mods.write("talk", "WORD = 'quiet 1'\n")
    path = str(mods.root / f"{mods.name('talk')}.py")
    spec = importlib.util.spec_from_file_location(
        mods.name("talk"), path, loader=Shouting(mods.name("talk"), path)
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    assert module.WORD == "LOUD 1"
    mods.write("talk", "WORD = 'quiet 2'\n")
    mods.reload("talk")
    assert module.WORD == "LOUD 2"


def test_module_without_usable_source_is_refused_with_a_reason(mods: Modules) -> None:
    fake = ModuleType(mods.name("fake"))
    fake.__file__ = str(mods.root / "other.py")
    (mods.root / "other.py").write_text("raise SystemExit('must never run')\n")
    sys.modules[fake.__name__] = fake
    with pytest.raises(ValueError, match="no __spec__"):
        hotmod.reload(fake.__name__)


def test_unparsable_dependent_fails_the_plan(mods: Modules) -> None:
    mods.write("leaf", "V = 1\n")
    mods.write("user", "from PFX_leaf import V\nW = V\n")
    leaf, user = mods.load("leaf"), mods.load("user")
    mods.write("user", "from PFX_leaf import V\nW = (V\n")  # broken before hotmod looked
    mods.write("leaf", "V = 2\n")
    report = hotmod.reload(mods.name("leaf"))
    assert not report.ok and isinstance(report.error, SyntaxError)
    assert leaf.V == 1 and user.W == 1


def test_identical_rewrite_and_written_then_imported_are_unchanged(mods: Modules) -> None:
    mods.write("fresh", "V = 1\n")
    mods.load("fresh")
    reloader = hotmod._runtime.get_reloader()
    with reloader.lock:
        reloader.sync()
    path = mods.root / f"{mods.name('fresh')}.py"
    report = reloader.reload_changed([str(path)])
    assert report is None  # written just before its import: what it runs
    path.write_text("V = 1\n")
    assert reloader.reload_changed([str(path)]) is None


def test_a_registration_removed_from_the_source_is_gone(mods: Modules) -> None:
    mods.write(
        "registry",
        "HANDLERS = []\nNAMED = {}\ndef register(f):\n"
        "    HANDLERS.append(f)\n    NAMED[f.__name__] = f\n    return f\n"
        # a global raising on any attribute, __class__ included (a request proxy)
        "class Proxy:\n    def __getattribute__(self, name):\n        raise RuntimeError(name)\n"
        "request = Proxy()\n",
    )
    mods.write("plugin", "from PFX_registry import register\n@register\ndef a():\n    return 1\n")
    registry, module = mods.load("registry"), mods.load("plugin")
    callbacks = [module.a]  # held by the program, not registered by the module
    mods.write("plugin", "from PFX_registry import register\ndef a():\n    return 2\n")
    mods.reload("plugin")
    assert registry.HANDLERS == [] and registry.NAMED == {}
    assert callbacks == [module.a] and callbacks[0]() == 2
    mods.write("plugin", "from PFX_registry import register\n@register\ndef a():\n    return 3\n")
    mods.reload("plugin")
    assert [module.a] == registry.HANDLERS and {"a": module.a} == registry.NAMED


@pytest.mark.parametrize("together", [False, True], ids=["alone", "with-another-plugin"])
def test_a_decorator_taken_off_or_swapped_leaves_the_registries_the_source_names(
    mods: Modules, together: bool
) -> None:
    # The function stays registered (by another decorator), so it is kept and handed
    # to the decorators left; the registries the source no longer names lose it.
    mods.write(
        "registry",
        "A = []\nB = []\nS = set()\nD = {}\n"
        "def a(f):\n    A.append(f)\n    return f\n"
        "def b(f):\n    B.append(f)\n    return f\n"
        "def s(f):\n    S.add(f)\n    return f\n"
        "def d(f):\n    D[f.__name__] = f\n    return f\n",
    )
    mods.write("settings", "LEVEL = 0\n")

    def source(decorators: str, level: int) -> str:
        on = "".join(f"@PFX_registry.{name}\n" for name in decorators)
        return f"import PFX_registry, PFX_settings\n\n{on}def f():\n    return {level}\n"

    mods.write("plugin", source("ab", 0))
    mods.write("other", "import PFX_registry, PFX_settings\n@PFX_registry.a\ndef g():\n    pass\n")
    registry, module = mods.load("registry"), mods.load("plugin")
    other = mods.load("other")
    for level, decorators in enumerate(("a", "b", "ab", "sd", "asb", "s", "", "ba", "d"), 1):
        mods.write("plugin", source(decorators, level))
        if together:
            mods.write("settings", f"LEVEL = {level}\n")
        mods.reload("settings" if together else "plugin")
        f = module.f
        expected = ([f] if "a" in decorators else []) + [other.g]
        assert (
            expected,
            [f] if "b" in decorators else [],
            {f} if "s" in decorators else set(),
            {"f": f} if "d" in decorators else {},
        ) == (registry.A, registry.B, registry.S, registry.D), decorators
        assert f() == level


@pytest.mark.parametrize("together", [False, True], ids=["alone", "with-another-plugin"])
def test_a_registry_keyed_by_the_function_loses_the_key_with_the_decorator(
    mods: Modules, together: bool
) -> None:
    mods.write(
        "registry",
        "LABELS = {}\ndef label(text):\n    def add(f):\n        LABELS[f] = text\n"
        "        return f\n    return add\n",
    )
    mods.write("settings", "LEVEL = 0\n")
    source = "import PFX_settings\nfrom PFX_registry import label\n{}def f():\n    return {}\n"
    mods.write("plugin", source.format("@label('a')\n", 0))
    mods.write(
        "other", "import PFX_settings\nfrom PFX_registry import label\n@label('o')\ndef g(): pass\n"
    )
    registry, module, other = mods.load("registry"), mods.load("plugin"), mods.load("other")
    for level, text in enumerate(("b", "", "c"), 1):
        mods.write("plugin", source.format(f"@label({text!r})\n" if text else "", level))
        if together:
            mods.write("settings", f"LEVEL = {level}\n")
        mods.reload("settings" if together else "plugin")
        mine = {module.f: text} if text else {}
        assert {**mine, other.g: "o"} == registry.LABELS and module.f() == level


def test_a_function_added_in_place_is_registered_once(mods: Modules) -> None:
    mods.write("registry", "H = []\nS = set()\n")
    source = "import PFX_registry\nfrom PFX_registry import H\ndef f():\n    return {}\n{}"
    mods.write("plugin", source.format(0, "H += [f]\nPFX_registry.S |= {f}\n"))
    registry, module = mods.load("registry"), mods.load("plugin")
    for version in (1, 2):
        mods.write("plugin", source.format(version, "H += [f]\nPFX_registry.S |= {f}\n"))
        mods.reload("plugin")
        assert (registry.H, registry.S, module.f()) == ([module.f], {module.f}, version)
    mods.write("plugin", source.format(3, ""))
    mods.reload("plugin")
    assert ([], set()) == (registry.H, registry.S)


@pytest.mark.parametrize("made", ["setdefault", "defaultdict"])
def test_a_handler_moved_to_another_event_leaves_the_list_of_the_first(
    mods: Modules, made: str
) -> None:
    # Handlers in a list under each event's name, made on first use: the list of the
    # event the handler left is empty, as a fresh import leaves no handler there.
    events, add = (
        ("{}", "EVENTS.setdefault(name, [])")
        if made == "setdefault"
        else ("__import__('collections').defaultdict(list)", "EVENTS[name]")
    )
    mods.write(
        "bus",
        f"EVENTS = {events}\ndef on(name):\n    def add(f):\n"
        f"        {add}.append(f)\n        return f\n    return add\n",
    )
    source = "from PFX_bus import on\n@on({!r})\ndef handler():\n    return {}\n"
    source += "@on('always')\ndef other():\n    pass\n"
    mods.write("plugin", source.format("tick", 0))
    bus, module = mods.load("bus"), mods.load("plugin")
    for version, event in enumerate(("tock", "tick", "tick"), 1):
        mods.write("plugin", source.format(event, version))
        mods.reload("plugin")
        handlers = {name: entries for name, entries in bus.EVENTS.items() if entries}
        assert handlers == {event: [module.handler], "always": [module.other]}
        assert module.handler() == version


def test_a_registering_call_taken_off_leaves_the_registries_the_source_names(
    mods: Modules,
) -> None:
    mods.write("registry", "A = []\nB = []\n")
    mods.write(
        "plugin",
        "from PFX_registry import A, B\ndef f():\n    return 1\nA.append(f)\nB.append(f)\n",
    )
    registry, module = mods.load("registry"), mods.load("plugin")
    callbacks = [module.f]  # the program's own list: no source names it
    mods.write("plugin", "from PFX_registry import A, B\ndef f():\n    return 2\nB.append(f)\n")
    mods.reload("plugin")
    assert registry.A == [] and registry.B == [module.f] == callbacks
    mods.write("plugin", "from PFX_registry import A, B\ndef f():\n    return 3\nA.append(f)\n")
    mods.reload("plugin")
    assert registry.A == [module.f] == callbacks and registry.B == []
    assert module.f() == 3


def test_a_failed_run_takes_a_function_out_of_the_registry_a_new_decorator_put_it_in(
    mods: Modules,
) -> None:
    mods.write(
        "registry",
        "A = []\nB = []\ndef a(f):\n    A.append(f)\n    return f\n"
        "def b(f):\n    B.append(f)\n    return f\n",
    )
    mods.write("plugin", "from PFX_registry import a, b\n@a\ndef f():\n    return 1\n")
    registry, module = mods.load("registry"), mods.load("plugin")
    mods.write("plugin", "from PFX_registry import a, b\n@a\n@b\ndef f():\n    return 2\n1 / 0\n")
    assert not hotmod.reload(mods.name("plugin")).ok
    assert (registry.A, registry.B, module.f()) == ([module.f], [], 1)
    mods.write("plugin", "from PFX_registry import a, b\n@b\ndef f():\n    return 3\n")
    mods.reload("plugin")
    assert (registry.A, registry.B, module.f()) == ([], [module.f], 3)


def test_registrants_tell_where_each_name_is_registered() -> None:
    from hotmod._registrants import registrants, site_changes

    def read(source: str) -> frozenset[str]:
        return registrants(ast.parse(source))

    two = read(
        "@app.route('/', methods=M)\n@cache\ndef home(): pass\nrouter.add(handler, name=x)\n"
    )
    assert two == {
        "def:home", "handler", "x", "by:", "by:home:app.route('/', methods=M)", "by:home:cache",
        "by:handler:router.add", "by:x:router.add",
    }  # fmt: skip
    # A decorator's arguments may name the list it registers in (``@on("tick")``).
    one = read("@app.route('/about', methods=M)\ndef home(): pass\nrouter.add(handler, name=x)\n")
    assert site_changes(two, one) == ({"def:home"}, {"def:home"})
    same = read("@cache\n@app.route('/', methods=M)\ndef home(): pass\nrouter.add(handler, x)\n")
    assert site_changes(two, same) == (set(), set())
    assert site_changes(one, read("@app.route('/about', methods=M)\n@b\ndef home(): pass\n")) == (
        set(),
        {"def:home"},
    )
    # The class an instance of which is registered as it is made.
    made = read("PLUGINS.append(Greeter())\nadd(make.Other(), key=Named())\nP.extend([A(), B])\n")
    assert made >= {"Greeter", "new:Greeter", "Named", "new:Named", "new:A"}
    assert "new:B" not in made
    assert not any(n.startswith("new:") and "Other" in n for n in made)
    # (sites not read, as for a big source: nothing is told)
    assert site_changes(registrants(ast.parse("@a\ndef f(): pass\n"), sites=False), one) == (
        set(),
        set(),
    )
    assert read("x = 1\n") == frozenset()


def test_a_module_registering_nowhere_is_not_searched_for_on_every_reload(
    mods: Modules, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `Route(handler)` passes the handler to a call, but only an object's attribute holds
    # it: no registry. The heap is searched once, not on every reload.
    searches = _count_calls(monkeypatch, "near_containers")
    walks = _count_heap_walks(monkeypatch)
    source = """
        class Route:
            def __init__(self, endpoint):
                self.endpoint = endpoint

        def handler():
            return "{v}"

        ROUTE = Route(handler)
    """
    mods.write("routes", source.format(v="old"))
    module = mods.load("routes")
    for version in VERSIONS:
        mods.write("routes", source.format(v=version))
        mods.reload("routes")
        assert module.ROUTE.endpoint() == version
    assert len(searches) == 1, searches
    assert walks == [], "every reference to the handler is near: no heap walk"


def _count_calls(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    """Calls of a registries' look for containers (``name``) from now on: the number of
    objects each was asked about."""
    from hotmod import _registry

    calls: list[int] = []
    look = getattr(_registry, name)

    def counted(objects: list[Any], *args: Any) -> Any:
        calls.append(len(objects))
        return look(objects, *args)

    monkeypatch.setattr(_registry, name, counted)
    return calls


def _count_heap_walks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Calls of the registries' heap walk from now on (one per module looked up)."""
    return _count_calls(monkeypatch, "find_containers")


_PLUGIN = "from PFX_registry import register\n\n@register\ndef a():\n    return '{v}'\n"


def _registry_and_plugin(mods: Modules, registry: str) -> tuple[Any, Any]:
    """A registry module from ``registry``, and a plugin registering ``a`` into it."""
    mods.write("registry", registry)
    mods.write("plugin", _PLUGIN.format(v="v1"))
    return mods.load("registry"), mods.load("plugin")


def _edit_plugin(mods: Modules, version: str) -> None:
    mods.write("plugin", _PLUGIN.format(v=version))
    mods.reload("plugin")


@pytest.mark.parametrize(
    ("registry", "held", "walked"),
    [
        (
            "HANDLERS = []\ndef register(f):\n    HANDLERS.append(f)\n    return f\n",
            lambda reg: reg.HANDLERS,
            0,
        ),
        (
            "class App:\n    def __init__(self):\n        self.routes = {}\napp = App()\n"
            "def register(f):\n    app.routes[f.__name__] = f\n    return f\n",
            lambda reg: list(reg.app.routes.values()),
            0,
        ),
        # A wrapper made with functools.wraps: the function it wraps is held by its
        # closure and its ``__wrapped__``, both near.
        (
            "import functools\nHANDLERS = []\ndef register(f):\n"
            "    @functools.wraps(f)\n    def wrapper(*args):\n        return f(*args)\n"
            "    HANDLERS.append(wrapper)\n    return wrapper\n",
            lambda reg: reg.HANDLERS,
            0,
        ),
        # Three steps out of the module globals: the heap walk finds it.
        (
            "HELD = [[]]\ndef register(f):\n    HELD[0].append(f)\n    return f\n",
            lambda reg: reg.HELD[0],
            1,
        ),
        # Longer than the near look reads (65,536 entries): the heap walk finds it.
        (
            "HANDLERS = [None] * 70000\ndef register(f):\n    HANDLERS.append(f)\n    return f\n",
            lambda reg: [h for h in reg.HANDLERS if h is not None],
            1,
        ),
    ],
    ids=[
        "module-global list",
        "attribute of a module global",
        "wrapper",
        "nested list",
        "long list",
    ],
)
def test_registries_near_the_module_are_found_without_walking_the_heap(
    mods: Modules,
    monkeypatch: pytest.MonkeyPatch,
    registry: str,
    held: Callable[[Any], list[Any]],
    walked: int,
) -> None:
    reg, module = _registry_and_plugin(mods, registry)
    walks = _count_heap_walks(monkeypatch)
    for version in VERSIONS[1:]:
        _edit_plugin(mods, version)
        entries = held(reg)
        assert entries == [module.a] and entries[0]() == version, entries
    assert len(walks) == walked, walks


def test_a_registered_function_an_importer_binds_too_is_counted_near_the_module(
    mods: Modules, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `from plugin import a` in another module is one more reference to it: read in
    # that importer's namespace, not left to a walk of the heap (50 ms beside two
    # million objects, on the first reload and on each that registers a new name).
    registry = "HANDLERS = []\ndef register(f):\n    HANDLERS.append(f)\n    return f\n"
    reg, module = _registry_and_plugin(mods, registry)
    mods.write("views", "from PFX_plugin import a\n")
    views = mods.load("views")
    walks = _count_heap_walks(monkeypatch)
    for version in VERSIONS[1:]:
        _edit_plugin(mods, version)
        assert [module.a] == reg.HANDLERS and views.a() == version
    assert walks == []


_CACHED = (
    "import functools\n\nfrom PFX_registry import keep\n\n{deco}\ndef a():\n    return '{v}'\n"
)


@pytest.mark.parametrize(
    ("deco", "walked"),
    [
        ("@functools.lru_cache", 0),
        ("@functools.lru_cache\n@keep", 1),  # the function also held three steps out
    ],
    ids=["cached", "cached and held"],
)
def test_a_function_held_by_a_wrapper_written_in_c_is_counted_near_the_module(
    mods: Modules, monkeypatch: pytest.MonkeyPatch, deco: str, walked: int
) -> None:
    # The lru_cache wrapper holds the function in a field of its own: read there, no
    # walk of the heap is needed, unless something further out holds it too.
    mods.write("registry", "HELD = [[]]\n\ndef keep(f):\n    HELD[0].append(f)\n    return f\n")
    reg = mods.load("registry")
    mods.write("cached", _CACHED.format(deco=deco, v="v1"))
    module = mods.load("cached")
    walks = _count_heap_walks(monkeypatch)
    for version in VERSIONS[1:]:
        mods.write("cached", _CACHED.format(deco=deco, v=version))
        mods.reload("cached")
        assert module.a.__wrapped__() == version
    assert len(walks) == walked, walks
    assert reg.HELD[0] == ([module.a.__wrapped__] if walked else [])


def test_the_programs_data_beside_a_registering_module_is_not_read(
    mods: Modules, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reading a list of two million objects in Python made a first reload take seconds.
    registry = """
        class Data(list):
            reads = 0

            def __iter__(self):
                Data.reads += 1
                return super().__iter__()

        DATA = Data(range(100_000))
        HANDLERS = []

        def register(f):
            HANDLERS.append(f)
            return f
    """
    reg, module = _registry_and_plugin(mods, textwrap.dedent(registry))
    walks = _count_heap_walks(monkeypatch)
    for version in VERSIONS[1:]:
        _edit_plugin(mods, version)
        handlers = reg.HANDLERS
        assert handlers == [module.a] and module.a() == version
    assert reg.Data.reads == 0
    assert walks == [], "the registry is near, and the data holds no registered object"


def test_a_registered_class_whose_metaclass_cannot_be_hashed(mods: Modules) -> None:
    # The heap walk tells a class's instances apart by their type, hashed when it can be.
    mods.write(
        "registry",
        """
        KINDS = []

        class Meta(type):
            def __eq__(cls, other):  # (and so no __hash__)
                return cls is other

        def register(cls):
            KINDS.append(cls)
            return cls
        """,
    )
    plugin = """
        from PFX_registry import Meta, register

        @register
        class Shape(metaclass=Meta):
            def name(self):
                return "{v}"

        SHAPES = [Shape(), Shape()]
        ONE = Shape()  # a global whose type cannot be hashed
    """
    mods.write("plugin", plugin.format(v="v1"))
    reg, module = mods.load("registry"), mods.load("plugin")
    held = list(module.SHAPES)
    for version in VERSIONS[1:]:
        mods.write("plugin", plugin.format(v=version))
        mods.reload("plugin")
        kinds = reg.KINDS
        assert kinds == [module.Shape] and held[0].name() == version


def test_names_used_inside_a_lambda_are_not_registrations() -> None:
    # ``keep("t", lambda: [Cell(i) ...])`` calls Cell later: a class with a million
    # instances would be looked for in every registry of the heap for nothing.
    from hotmod._registrants import registrants

    tree = ast.parse(
        "TABLE = keep('TABLE', lambda: [Cell(i) for i in range(9)])\n"
        "add('/', handler)\n"
        "on('tick', lambda: tick(world))\n"
        "HANDLERS['ping'] = on_ping\n"
        "HANDLERS['later'] = lambda: later\n"
    )
    # (what keep returned: named; a name stored at a key)
    assert registrants(tree, sites=False) == {"handler", "made:TABLE", "on_ping"}


def test_a_function_stored_at_a_key_follows_the_source(mods: Modules) -> None:
    # ``HANDLERS["ping"] = on_ping`` registers as a call does: a key renamed or a line
    # removed leaves no entry under the old key (it stayed, holding the kept function).
    mods.write("registry", "HANDLERS = {}\n")
    head = "from PFX_registry import HANDLERS\n\ndef on_ping():\n    return {n}\n\n"
    mods.write("a", 'from PFX_registry import HANDLERS\n\nHANDLERS["a"] = len\n')
    mods.write("b", head.format(n=0) + 'HANDLERS["ping"] = on_ping\n')
    registry, b = mods.load("registry"), mods.load("b")
    mods.load("a")
    edits = [('HANDLERS["pong"] = on_ping\n', {"a", "pong"}), ("", {"a"})]
    edits.append(('HANDLERS["ping"] = on_ping\n', {"a", "ping"}))
    for n, (line, keys) in enumerate(edits, 1):
        mods.write("b", head.format(n=n) + line)
        mods.reload("b")
        assert registry.HANDLERS.keys() == keys and registry.HANDLERS["a"] is len
        assert all(registry.HANDLERS[k] is b.on_ping for k in keys - {"a"})
    assert b.on_ping() == len(edits)


@pytest.mark.parametrize("extra", [0, 1])
def test_an_instance_registered_as_it_is_made_is_there_once(mods: Modules, extra: int) -> None:
    # ``PLUGINS.append(Greeter())``: the new instance takes the previous one's place, as
    # a fresh import would hold one (``extra``: a second registration added by an edit).
    mods.write("registry", "PLUGINS = []\ndef add(p):\n    PLUGINS.append(p)\n")
    source = (
        "from PFX_registry import PLUGINS, add\n"
        "class Greeter:\n    def hello(self):\n        return {}\n"
        "class Other:\n    pass\nclass Third:\n    pass\n"
        "PLUGINS.append(Greeter())\nadd(Other())\nPLUGINS.extend([Third()])\n{}"
    )
    mods.write("plugin", source.format(0, ""))
    registry, module = mods.load("registry"), mods.load("plugin")
    for version in (1, 2):
        mods.write("plugin", source.format(version, "add(Greeter())\n" * extra))
        mods.reload("plugin")
        kinds = [type(p) for p in registry.PLUGINS]
        assert kinds == [module.Greeter, module.Other, module.Third] + [module.Greeter] * extra
        assert [p.hello() for p in registry.PLUGINS if type(p) is module.Greeter] == [version] * (
            1 + extra
        )
    # A failed run leaves the entries as they were.
    before = list(registry.PLUGINS)
    mods.write("plugin", source.format(3, "add(Greeter())\n1 / 0\n"))
    report = hotmod.reload(mods.name("plugin"))
    assert isinstance(report.error, ZeroDivisionError)
    assert before == registry.PLUGINS


def test_a_job_holding_a_partial_of_the_function_is_there_once(mods: Modules) -> None:
    # A scheduler's job (``schedule.every(10).seconds.do(tick)``) holds a partial of
    # the function: the list holds the job, two steps from the function.
    mods.write(
        "sched",
        """
        import functools

        JOBS = []

        class Job:
            def __init__(self, func):
                self.every = 10
                self.job_func = functools.update_wrapper(functools.partial(func), func)

        def do(func):
            JOBS.append(Job(func))
        """,
    )
    source = "from PFX_sched import do\ndef tick():\n    return {}\ndo(tick)\n"
    mods.write("jobs", source.format(0))
    sched, module = mods.load("sched"), mods.load("jobs")
    for version in (1, 2):
        mods.write("jobs", source.format(version))
        mods.reload("jobs")
        assert [job.job_func() for job in sched.JOBS] == [version]
        assert sched.JOBS[0].job_func.func is module.tick


def test_a_classs_own_instances_are_not_taken_for_wrapped_registrations() -> None:
    # A class's instances refer to it (their type); a program may hold millions.
    from hotmod._holders import find_containers

    class Particle:
        def __init__(self, x: int) -> None:
            self.x = x

    registry = [Particle]
    particles = [Particle(i) for i in range(3)]
    routes = [(5, Particle)]  # an entry that does wrap it
    containers, wrapping = find_containers([Particle], set(), frozenset())
    assert any(c is registry for c in containers)
    assert all(w is not particles for w in wrapping)
    assert any(w is routes for w in wrapping)


def test_a_reference_dropped_while_the_near_look_counts_sends_it_to_the_heap(
    mods: Modules, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another thread drops a reference the count has read, while a holder the near look
    # cannot see exists: after the count the totals agree by chance, the holder missed.
    from hotmod import _holders

    reg, module = _registry_and_plugin(
        mods, "HANDLERS = []\ndef register(f):\n    HANDLERS.append(f)\n    return f\n"
    )
    hidden = [[module.a]]  # three steps from any module: only the heap walk finds it
    count_near = _holders._count_near

    def racing(objects: list[Any], namespaces: list[Any], *rest: Any) -> Any:
        counted = count_near(objects, namespaces, *rest)
        reg.HANDLERS.remove(module.a)  # as the other thread would, right after the count
        return counted

    monkeypatch.setattr(_holders, "_count_near", racing)
    walks = _count_heap_walks(monkeypatch)
    _edit_plugin(mods, "v2")
    assert walks == [1]
    assert hidden[0] == [module.a] and module.a() == "v2"


def test_the_referrers_of_many_objects_are_found_in_one_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Past a few hundred objects (here five), one pass over the heap with a set of
    # them. The heap is a small one here: the pass reads every object in Python.
    from hotmod import _reach

    objects = [[i] for i in range(40)]
    holders: list[object] = [[o] for o in objects[:10]] + [{"k": o} for o in objects[10:20]]
    holders.append((objects[20], "a tuple"))
    others: list[object] = [[i] for i in range(100)] + [{"k": []}, objects[21:21]]
    heap = [*others[:50], *holders, *objects, *others[50:]]
    monkeypatch.setattr(_reach, "_MANY", 5)
    monkeypatch.setattr(gc, "get_objects", lambda: heap)
    assert [id(ref) for ref in _reach.referrers(objects)] == [id(h) for h in holders]


def test_instances_split_from_the_other_referrers_as_the_walk_gives_them() -> None:
    # The walk of a discarded class's referrers gives its instances, maybe millions,
    # beside a few holders: told apart by their exact type (a subclass's instance is no
    # instance of it), whatever the classes' metaclass says of equality.
    from hotmod._reach import instances_of, without_instances

    class Meta(type):
        def __eq__(cls, other: object) -> bool:  # (and so no __hash__)
            return True

    class Shape:
        pass

    class Square(Shape):
        pass

    class Odd(metaclass=Meta):
        pass

    pool = [Shape(), Shape(), Square(), Odd(), Shape, {}, (), [], 1, None]
    rng = random.Random(7)
    for _ in range(200):
        refs = [rng.choice(pool) for _ in range(rng.randint(0, 30))]
        for classes in ([Shape], [Square], [Shape, Square], [Odd], [Shape, Odd]):
            ids = {id(c) for c in classes}
            mine = [r for r in refs if id(type(r)) in ids]
            rest = [r for r in refs if id(type(r)) not in ids]
            others, instances = without_instances(refs, classes), instances_of(refs, classes)
            assert list(map(id, others)) == list(map(id, rest))
            assert list(map(id, instances)) == list(map(id, mine))
            assert list(map(id, without_instances(refs, classes))) == list(map(id, rest))


def test_previous_code_held_by_an_instance_of_a_discarded_class_is_reported(
    mods: Modules,
) -> None:
    # Instances of an old class are notes, not holders of it; one holding other old
    # code (a callback it keeps) is that code's holder.
    source = """
        import hotmod

        def callback{v}():
            return {v}

        class Job{bases}:
            __slots__ = ("then",)  # (no dict of attributes: the instance holds it)

            def __init__(self):
                self.then = callback{v}

        JOBS = hotmod.keep("JOBS", lambda: [Job()])  # (out of reach of module globals)
    """
    mods.write("jobs", source.format(v=0, bases=""))
    mods.load("jobs")
    mods.write("jobs", source.format(v=1, bases="(Exception)"))
    report = mods.reload("jobs")
    name = mods.name("jobs")
    assert sorted(report.stale) == [
        f"{name}.Job (previous code) held by 1 existing instance of it",
        f"{name}.callback0 (previous code) held by a Job object",
    ]


def test_instances_that_keep_a_replaced_class_are_reported(mods: Modules, caplog: Any) -> None:
    # A class whose bases change is replaced; its instances keep the old class and run
    # its methods: previous code being served, which the log must say.
    source = """
        import hotmod

        class Base:
            pass

        class Shape{bases}:
            def name(self):
                return "{v}"

        SHAPES = hotmod.keep("SHAPES", lambda: [Shape() for _ in range(3)])
    """
    mods.write("shapes", source.format(bases="(Base)", v="old"))
    module = mods.load("shapes")
    mods.write("shapes", source.format(bases="(Base, Exception)", v="new"))
    with caplog.at_level(logging.WARNING, logger="hotmod"):
        report = mods.reload("shapes")
    assert module.SHAPES[0].name() == "old"  # (see docs/limitations.md)
    assert report.stale == [
        f"{mods.name('shapes')}.Shape (previous code) held by 3 existing instances of it"
    ]
    assert "3 existing instances" in caplog.text
    mods.write("shapes", source.format(bases="(Base)", v="newer"))
    # The new class of the last edit has none; the first one's instances still run
    # its methods, and every reload of the module says so (their count not looked for
    # again: that would walk the heap each time).
    assert mods.reload("shapes").stale == report.stale
    module.SHAPES.clear()
    mods.write("shapes", source.format(bases="(Base)", v="newest"))
    assert mods.reload("shapes").stale == []


RUNNING = """
    import threading

    import hotmod

    STOP = hotmod.keep("STOP", threading.Event)
    SEEN = hotmod.keep("SEEN", list)

    def step():
        return {step}

    def loop(started):
        started.set()
        while not STOP.is_set():
            SEEN.append(({v}, step()))
            STOP.wait(0.001)

    def numbers():
        while True:
            yield {v}

    async def ticker(out):
        import asyncio

        out.append({v})
        await asyncio.sleep(3600)  # (paused there: never caught running)
"""


def _started_loop(mods: Modules) -> tuple[Any, threading.Thread]:
    mods.write("work", RUNNING.format(v=0, step=0))
    module = mods.load("work")
    started = threading.Event()
    thread = threading.Thread(target=module.loop, args=(started,), name="worker", daemon=True)
    thread.start()
    assert started.wait(10)
    return module, thread


def test_a_thread_running_a_function_the_edit_changed_is_reported(mods: Modules) -> None:
    # Its frame keeps the previous code until it returns: a loop never sees the edit,
    # and the report must not read as a plain success.
    module, thread = _started_loop(mods)
    try:
        mods.write("work", RUNNING.format(v=1, step=0))
        report = mods.reload("work")
        assert len(report.stale) == 1, report.stale
        assert report.stale[0].startswith(f"{mods.name('work')}.loop (previous code)")
        assert "running in thread 'worker', line " in report.stale[0]
        assert "still running previous code" in str(report)
    finally:
        module.STOP.set()
        thread.join(10)


def test_a_thread_running_a_function_an_edit_only_moved_is_not_reported(mods: Modules) -> None:
    # Lines added above it: the running frame's code is the new one at other lines.
    module, thread = _started_loop(mods)
    try:
        mods.write("work", "\n\n\n" + RUNNING.format(v=0, step=0))
        report = mods.reload("work")
        assert report.stale == [] and report.patched
    finally:
        module.STOP.set()
        thread.join(10)


def test_a_call_running_a_function_moved_then_changed_is_reported(mods: Modules) -> None:
    # The first save only moves the generator's function: nothing to say. The second
    # changes it: the paused generator runs code older than the one just replaced.
    mods.write("work", RUNNING.format(v=0, step=0))
    module = mods.load("work")
    numbers = module.numbers()
    assert next(numbers) == 0
    mods.write("work", "\n\n" + RUNNING.format(v=0, step=0))
    assert mods.reload("work").stale == []
    mods.write("work", "\n\n" + RUNNING.format(v=1, step=0))
    stale = mods.reload("work").stale
    assert [line.split(",")[0] for line in stale] == [
        f"{mods.name('work')}.numbers (previous code) suspended in a generator"
    ]
    assert next(numbers) == 0


def test_a_thread_running_an_unchanged_function_gets_the_edit_with_no_report(
    mods: Modules, monkeypatch: Any
) -> None:
    # The loop's own code did not change: it calls the new step on its next turn.
    walks = _audit_walks(monkeypatch)
    module, thread = _started_loop(mods)
    try:
        mods.write("work", RUNNING.format(v=0, step=1))
        assert mods.reload("work").stale == []
        deadline = time.monotonic() + 10
        while (0, 1) not in module.SEEN and time.monotonic() < deadline:
            module.STOP.wait(0.001)
        assert (0, 1) in module.SEEN
    finally:
        module.STOP.set()
        thread.join(10)
    assert walks == []  # no previous code with a reference left to explain


def test_edits_of_a_function_nothing_runs_leave_its_previous_codes_free(
    mods: Modules, monkeypatch: Any
) -> None:
    # The audit reads every thread's stack, its own included: a frame it kept would
    # refer to itself, and keep the previous codes until the next collection; the next
    # reload would then take them for paused calls and walk the heap (1 ms a reload).
    walks = _audit_walks(monkeypatch)
    mods.write("work", "def step():\n    return 0\n")
    module = mods.load("work")
    previous = []
    with _no_collection():
        for v in (1, 2, 3):
            previous.append(weakref.ref(module.step.__code__))
            mods.write("work", f"def step():\n    return {v}\n")
            assert mods.reload("work").stale == []
            assert [ref() for ref in previous] == [None] * v
    assert module.step() == 3 and walks == []


def test_framework_apps_keep_no_previous_code_of_their_route_modules(project: Project) -> None:
    # hotmod's own note of which module run made an app or a router must not keep that
    # run's code: it holds the previous code of every function the module defines.
    project.scenario("audit_framework_apps_keep_no_previous_code")
    assert project.run_driver().split() == ["walks", "0"]


def test_a_decorator_with_functools_wraps_gets_the_kept_definition(
    mods: Modules, monkeypatch: Any
) -> None:
    # functools.wraps gives the wrapper the definition's name: the decorator must still
    # receive the kept definition, so that what it stores (singledispatch's registry)
    # holds no twin of it. A twin shares the code the next edit replaces, and a registry
    # of the previous run (a cycle, left to the collector) would keep it alive: the audit
    # would walk the heap for calls paused in it on every reload.
    walks = _audit_walks(monkeypatch)
    source = """
        import functools

        @functools.singledispatch
        def show(x):
            return "obj {v}"

        @show.register
        def _(x: int):
            return "int {v}"
    """
    mods.write("shows", source.format(v=0))
    module = mods.load("shows")
    kept = module.show.__wrapped__
    with _no_collection():
        for v in (1, 2, 3):
            mods.write("shows", source.format(v=v))
            assert mods.reload("shows").stale == []
            assert module.show.registry[object] is kept is module.show.__wrapped__
            assert (module.show("s"), module.show(1)) == (f"obj {v}", f"int {v}")
    assert walks == []


def test_a_generator_and_a_coroutine_paused_in_changed_functions_are_reported(
    mods: Modules,
) -> None:
    import asyncio

    mods.write("work", RUNNING.format(v=0, step=0))
    module = mods.load("work")
    numbers = module.numbers()
    assert next(numbers) == 0
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    out: list[int] = []
    asyncio.run_coroutine_threadsafe(module.ticker(out), loop)
    try:
        deadline = time.monotonic() + 10
        while not out and time.monotonic() < deadline:
            module.STOP.wait(0.001)
        mods.write("work", RUNNING.format(v=1, step=0))
        stale = sorted(mods.reload("work").stale)
        name = mods.name("work")
        assert [line.split(",")[0] for line in stale] == [
            f"{name}.numbers (previous code) suspended in a generator",
            f"{name}.ticker (previous code) suspended in a coroutine",
        ]
        assert next(numbers) == 0  # (what the report says: it resumes the previous code)
    finally:
        asyncio.run_coroutine_threadsafe(_cancel_others(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        runner.join(10)
        loop.close()


async def _cancel_others() -> None:
    import asyncio

    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def test_a_replaced_class_with_a_holder_in_module_globals_costs_no_walk(
    mods: Modules, monkeypatch: Any
) -> None:
    # Its methods go back to the old class, code and all: no frame can be running code
    # the reload replaced, so nothing is looked for on the heap.
    walks = _audit_walks(monkeypatch)
    mods.write("registry", "HELD = []\n")
    source = """
        from PFX_registry import HELD

        class Shape({base}):
            def area(self):
                return {v}
    """
    mods.write("shapes", source.format(base="object", v=0))
    shapes = mods.load("shapes")
    for v, base in ((1, "Exception"), (2, "object")):
        shapes.HELD.append(shapes.Shape)  # (the program collects it: no registration)
        mods.write("shapes", source.format(base=base, v=v))
        stale = mods.reload("shapes").stale
        # (the one the reload replaced; then the one before, still held: reported again)
        assert [line.split(" held by ")[1] for line in stale] == [
            f"{mods.name('shapes')}.HELD[{i}]" for i in range(v - 1, -1, -1)
        ]
    assert walks == []


# -- functions an earlier call made ----------------------------------------------------


def _maker(body: str, route: str = "/a") -> str:
    return f"""
        def register(table, tag):
            def handler():
                return ({body!r}, tag)
            handler.route = {route!r}
            table.append(handler)

            def unchanged():
                return tag
            table.append(unchanged)
        """


def _made_once(mods: Modules, tag: str) -> tuple[Any, list[Any]]:
    """The maker module, and what one call of ``register`` made (as a script calls it)."""
    mods.write("maker", _maker("v1"))
    maker = mods.load("maker")
    table: list[Any] = []
    maker.register(table, tag)
    return maker, table


def test_functions_an_earlier_call_made_run_the_new_code_of_their_definition(
    mods: Modules,
) -> None:
    # The script's top level called register() once: nothing calls it again, and a
    # fresh run of the new sources would make these functions with the new bodies.
    maker, table = _made_once(mods, "x")
    handler, unchanged = table
    for version in ("v2", "v3"):
        mods.write("maker", _maker(version))
        report = mods.reload("maker")
        assert report.stale == [] and report.patched == 3, report
        assert table == [handler, unchanged] and handler() == (version, "x")
        assert unchanged() == "x" and handler.route == "/a"
    assert handler.__code__ is maker.register.__code__.co_consts[1]


def test_what_an_earlier_call_made_is_kept_whole_and_reported_when_its_maker_changed(
    mods: Modules,
) -> None:
    # A call now would make something else (another route): what the earlier call made
    # stays as it made it, all of it, and the report says it is previous code.
    _, table = _made_once(mods, "x")
    mods.write("maker", _maker("v2", route="/b"))
    report = mods.reload("maker")
    assert table[0]() == ("v1", "x") and table[0].route == "/a"
    names = sorted(line.split(" ")[0] for line in report.stale)
    assert names == [
        mods.name("maker") + ".register.<locals>.handler",
        mods.name("maker") + ".register.<locals>.unchanged",
    ], report.stale


def test_the_collector_is_asked_only_when_an_earlier_call_made_something_held(
    mods: Modules, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotmod import _closures

    asked: list[int] = []

    def counting(objects: Any) -> list[Any]:
        asked.append(len(objects))
        return _closures_referrers(objects)

    _closures_referrers = _closures.referrers
    monkeypatch.setattr(_closures, "referrers", counting)
    mods.write("maker", _maker("v1"))
    maker = mods.load("maker")
    maker.register([], "dropped")  # what it made is gone
    mods.write("maker", _maker("v2"))
    assert mods.reload("maker").ok and asked == []
    table: list[Any] = []
    maker.register(table, "held")
    mods.write("maker", _maker("v3"))
    assert mods.reload("maker").ok and len(asked) == 1
    assert table[0]() == ("v3", "held")


# -- dict registries: keys as the new source registers them -----------------------------

_KEYED = """
    REGISTRY = {}

    def register(key):
        def deco(f):
            if key in REGISTRY:
                raise ValueError(f"{key} registered twice")
            REGISTRY[key] = f
            return f
        return deco
    """


def _keyed(*keys: str, extra: str = "") -> str:
    return (
        "from PFX_registry import register\n\n"
        + "".join(
            f"@register({key!r})\ndef handle_{i}():\n    return {key!r}\n\n"
            for i, key in enumerate(keys)
        )
        + extra
    )


def test_a_dict_registry_holds_the_keys_the_new_source_registers(mods: Modules) -> None:
    # A registry that refuses a key twice, a key renamed, one added before another:
    # as a fresh import (the other module's entry, and the order of those kept, stay).
    mods.write("registry", _KEYED)
    mods.write("other", "from PFX_registry import register\n\n@register('o')\ndef o():\n    pass\n")
    mods.write("plugin", _keyed("a", "b"))
    registry, _, plugin = mods.load("registry"), mods.load("other"), mods.load("plugin")
    assert list(registry.REGISTRY) == ["o", "a", "b"]
    for keys, expected in [
        (("a", "b"), ["o", "a", "b"]),
        (("a", "bb"), ["o", "a", "bb"]),  # renamed
        (("z", "a", "bb"), ["o", "z", "a", "bb"]),  # added before them
        (("a",), ["o", "a"]),
    ]:
        mods.write("plugin", _keyed(*keys))
        mods.reload("plugin")
        assert list(registry.REGISTRY) == expected
        kept = {k: getattr(plugin, f"handle_{i}") for i, k in enumerate(keys)}
        assert all(registry.REGISTRY[k] is f and f() == k for k, f in kept.items())


def test_a_failed_run_puts_the_entries_it_took_back(mods: Modules) -> None:
    mods.write("registry", _KEYED)
    mods.write("plugin", _keyed("a", "b"))
    registry, plugin = mods.load("registry"), mods.load("plugin")
    before = dict(registry.REGISTRY)
    mods.write("plugin", _keyed("a", "bb", extra="1 / 0\n"))
    report = hotmod.reload(mods.name("plugin"))
    assert not report.ok and isinstance(report.error, ZeroDivisionError)
    table = registry.REGISTRY
    assert table == before and list(table) == ["a", "b"]
    assert registry.REGISTRY["b"] is plugin.handle_1


def test_a_metaclass_registry_holds_the_key_the_class_has_now(mods: Modules) -> None:
    mods.write(
        "meta",
        """
        REGISTRY = {}

        class Meta(type):
            def __new__(mcls, name, bases, ns):
                cls = super().__new__(mcls, name, bases, ns)
                if bases:
                    REGISTRY[ns.get("key", name)] = cls
                return cls

        class Plugin(metaclass=Meta):
            pass
        """,
    )
    source = "from PFX_meta import Plugin\n\nclass B(Plugin):\n    key = {!r}\n"
    mods.write("plugins", source.format("b"))
    meta, plugins = mods.load("meta"), mods.load("plugins")
    kept = plugins.B
    for key in ("bb", "b"):
        mods.write("plugins", source.format(key))
        mods.reload("plugins")
        table = meta.REGISTRY
        assert table == {key: kept} and plugins.B is kept


def test_a_registry_made_anew_by_its_module_is_the_one_settled_next(mods: Modules) -> None:
    # The registry's module reloaded made a new dict (its importers registered into it
    # again): the old one, which only hotmod's records still hold, is no registry now.
    mods.write("registry", _KEYED)
    mods.write("plugin", _keyed("a", "b"))
    registry, _ = mods.load("registry"), mods.load("plugin")
    mods.write("registry", _KEYED + "    # edited\n")
    assert mods.name("plugin") in mods.reload("registry").reloaded
    mods.write("plugin", _keyed("a", "bb"))
    mods.reload("plugin")
    assert list(registry.REGISTRY) == ["a", "bb"]


def test_a_registry_made_anew_is_let_go_of_before_the_collector_runs(mods: Modules) -> None:
    # The records of the reload that replaced it held the old dict in a reference
    # cycle: until the collector ran, the next reload took it for the registry still
    # (and the new dict refused a key registered twice).
    mods.write("registry", _KEYED)
    mods.write("plugin", _keyed("a", "b"))
    registry, _ = mods.load("registry"), mods.load("plugin")
    gc.collect()
    gc.disable()
    try:
        mods.write("registry", _KEYED + "    # edited\n")
        assert mods.reload("registry").ok
        mods.write("plugin", _keyed("a", "bb"))
        assert mods.reload("plugin").ok
    finally:
        gc.enable()
    assert list(registry.REGISTRY) == ["a", "bb"]


# -- what ABCs remember ------------------------------------------------------------------


def test_isinstance_against_abcs_answers_as_after_a_fresh_import(mods: Modules) -> None:
    # ABCs cache their verdicts per class: a Protocol whose method changed, a class
    # that gained __iter__, must not be judged as they were.
    mods.write(
        "proto",
        """
        from typing import Protocol, runtime_checkable

        @runtime_checkable
        class Closer(Protocol):
            def close(self) -> None: ...
        """,
    )
    things = """
        class File:
            def close(self):
                pass

        class Bag:
            {body}
        """
    mods.write("things", things.format(body="pass"))
    proto, mod = mods.load("proto"), mods.load("things")
    bag, file = mod.Bag(), mod.File()
    assert isinstance(file, proto.Closer) and not isinstance(bag, collections.abc.Iterable)
    mods.write(
        "proto", mods.root.joinpath(mods.name("proto") + ".py").read_text().replace("close", "open")
    )
    mods.write("things", things.format(body="def __iter__(self):\n                return iter(())"))
    mods.reload("proto")
    mods.reload("things")
    assert not isinstance(file, proto.Closer)
    assert isinstance(bag, collections.abc.Iterable) and issubclass(
        mod.Bag, collections.abc.Iterable
    )


def test_a_class_the_source_no_longer_registers_with_an_abc_is_no_longer_its_subclass(
    mods: Modules,
) -> None:
    mods.write("base", "import abc\n\nclass Shape(abc.ABC):\n    pass\n")
    circle = """
        from PFX_base import Shape

        class Circle:
            pass

        class Square:
            pass

        Shape.register({registered})
        """
    mods.write("circle", circle.format(registered="Circle"))
    base, mod = mods.load("base"), mods.load("circle")
    assert issubclass(mod.Circle, base.Shape) and not isinstance(mod.Square(), base.Shape)
    mods.write("circle", circle.format(registered="Square"))
    mods.reload("circle")
    assert not issubclass(mod.Circle, base.Shape) and isinstance(mod.Square(), base.Shape)
    mods.write("circle", circle.format(registered="Square") + "1 / 0\n")
    assert not hotmod.reload(mods.name("circle")).ok  # rolled back: as it was
    assert not issubclass(mod.Circle, base.Shape) and isinstance(mod.Square(), base.Shape)


def test_a_dataclass_gaining_a_field_without_default_says_its_instances_lack_it(
    mods: Modules,
) -> None:
    point = "from dataclasses import dataclass\n\n@dataclass\nclass Point:\n    x: int\n{more}"
    mods.write("point", point.format(more=""))
    mod = mods.load("point")
    old = mod.Point(1)
    mods.write("point", point.format(more="    w: int\n"))
    notes = mods.reload("point").notes
    assert notes == [
        f"{mods.name('point')}.Point: new fields without a default (w): its "
        "instances made before have no value for them"
    ], notes
    assert mod.Point(1, 2).w == 2 and not hasattr(old, "w")
    mods.write("point", point.format(more="    w: int\n    z: int = 0\n"))
    assert mods.reload("point").notes == [] and old.z == 0  # (the class's default)


_PLUGIN_BASE = (
    "PLUGINS = []\n\nclass Plugin:\n    def __init_subclass__(cls):\n        PLUGINS.append(cls)\n"
)


def test_a_registry_the_reloaded_modules_share_is_settled_once_for_all(
    mods: Modules, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each of N plugins settled the whole shared list on its own: N times N steps (a
    # thousand plugins took 2.5 s a reload, beside a 0.1 s import).
    alone = calls_to(monkeypatch, "settle_containers")
    mods.write(
        "registry",
        "HANDLERS = []\nNAMED = {}\n\n"
        "def register(f):\n    HANDLERS.append(f)\n    NAMED[f.__name__] = f\n    return f\n\n"
        + _PLUGIN_BASE,
    )
    mods.write("settings", "DEBUG = False\n")
    plugin = """
        import PFX_settings
        from PFX_registry import Plugin, register

        @register
        def handler{i}():
            return PFX_settings.DEBUG

        class P{i}(Plugin):
            pass
    """
    for i in range(12):
        mods.write(f"plugin{i}", plugin.format(i=i))
    registry = mods.load("registry")
    plugins = [mods.load(f"plugin{i}") for i in range(12)]

    def view() -> list[Any]:  # (ids: a list of the objects here would be a registry too)
        return [
            [id(h) for h in registry.HANDLERS],
            [(k, id(v)) for k, v in registry.NAMED.items()],
            [id(p) for p in registry.PLUGINS],
        ]

    before = view()
    assert before[2] == [id(getattr(p, f"P{i}")) for i, p in enumerate(plugins)]
    for debug in (True, False):
        mods.write("settings", f"DEBUG = {debug}\n")
        assert len(mods.reload("settings").reloaded) == 13
        assert view() == before
        assert [h() for h in registry.HANDLERS] == [debug] * 12
    assert alone == []


def test_a_module_defining_a_subclass_finds_its_registries_without_a_heap_walk(
    mods: Modules, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A class refers to itself (its __mro__, its descriptors): counted as a holder out
    # of sight, every module defining a subclass walked the heap on its first reload.
    walks = calls_to(monkeypatch, "referrers", "_holders")
    mods.write("base", _PLUGIN_BASE)
    source = (
        "from PFX_base import Plugin\n\nclass P(Plugin):\n    def run(self):\n        return {}\n"
    )
    mods.write("plugin", source.format(1))
    base, plugin = mods.load("base"), mods.load("plugin")
    kept = id(plugin.P)  # (a reference held here would be one out of sight)
    mods.write("plugin", source.format(2))
    mods.reload("plugin")
    assert [id(p) for p in base.PLUGINS] == [kept] and plugin.P().run() == 2
    assert walks == []


def test_a_registry_the_module_makes_again_on_each_run_is_not_looked_for_again(
    mods: Modules, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its previous list, held by hotmod's records alone, was taken for a sign that the
    # registries had moved: each reload looked near and walked the heap again.
    looks = calls_to(monkeypatch, "near_containers")
    source = (
        "REGISTRY = []\n\ndef register(f):\n    REGISTRY.append(f)\n    return f\n\n"
        "@register\ndef handler():\n    return {}\n"
    )
    mods.write("own", source.format(0))
    own = mods.load("own")
    for version in range(1, 4):
        mods.write("own", source.format(version))
        mods.reload("own")
        assert [h() for h in own.REGISTRY] == [version] and own.REGISTRY[0] is own.handler
    assert len(looks) == 1


def test_kept_data_longer_than_a_registry_is_not_read_when_the_run_leaves_it(
    mods: Modules, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A program's data holding the module's registered function (70,000 entries of
    # it): each reload read it whole (0.3 to 0.5 s a reload at a million entries).
    mods.write(
        "registry", "HANDLERS = []\ndef register(f):\n    HANDLERS.append(f)\n    return f\n"
    )
    source = (
        "import hotmod\nfrom PFX_registry import register\n\n"
        "PAIRS = hotmod.keep('PAIRS', list)\nBY_KEY = hotmod.keep('BY_KEY', dict)\n\n"
        "@register\ndef handler():\n    return {}\n"
    )
    mods.write("plugin", source.format(0))
    registry, plugin = mods.load("registry"), mods.load("plugin")
    plugin.PAIRS.extend((i, plugin.handler) for i in range(70_000))
    plugin.BY_KEY.update((i, plugin.handler) for i in range(70_000))
    mods.write("plugin", source.format(1))
    mods.reload("plugin")  # (the first reload finds the registries)
    settled = calls_to(monkeypatch, "settle_containers")
    wrapped = calls_to(monkeypatch, "settle_wrapped")
    for version in (2, 3):
        mods.write("plugin", source.format(version))
        mods.reload("plugin")
        assert [h() for h in registry.HANDLERS] == [version]
    assert all(len(c) < 70_000 for args in settled for c in args[0]) and wrapped == []
    assert len(plugin.PAIRS) == len(plugin.BY_KEY) == 70_000
    assert plugin.PAIRS[-1][1] is plugin.handler and plugin.BY_KEY[5]() == 3


def test_a_big_dict_registry_is_read_again_only_when_its_keys_change(
    mods: Modules, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A program's data mapping 70,000 keys, in the module the plugin imports, with the
    # plugin's handler registered under its name: each reload read it whole four times
    # (1.2 s a reload at five million keys). The keys the last reload found are checked
    # one by one; a key renamed in the source is as after a fresh import.
    from hotmod import _settle

    mods.write(
        "registry",
        "BY_NAME = dict.fromkeys(range(70_000))\n\n"
        "def register(name):\n"
        "    def add(f):\n"
        "        if name in BY_NAME:\n"
        "            raise KeyError(f'{name} registered twice')\n"
        "        BY_NAME[name] = f\n"
        "        return f\n"
        "    return add\n",
    )
    source = "from PFX_registry import register\n\n@register({key!r})\ndef h():\n    return {v}\n"
    mods.write("plugin", source.format(key="h", v=0))
    registry, plugin = mods.load("registry"), mods.load("plugin")
    scans: list[int] = []
    real = _settle.Taken.__init__

    def counting(self: Any, container: Any, ids: Any, *keys: Any) -> None:
        scans.extend([len(container)] if not keys or keys[0] is None else [])
        real(self, container, ids, *keys)

    monkeypatch.setattr(_settle.Taken, "__init__", counting)
    for v, key in enumerate(["h", "h", "h", "renamed", "renamed"], start=1):
        mods.write("plugin", source.format(key=key, v=v))
        mods.reload("plugin")
        assert [k for k in registry.BY_NAME if isinstance(k, str)] == [key]
        assert registry.BY_NAME[key] is plugin.h and plugin.h() == v
        assert len(registry.BY_NAME) == 70_001
    # (read on the first reload, and on the one after the key was renamed)
    assert scans == [70_001, 70_001]
    # A run that fails leaves it as it was: its keys in their order, the handler's
    # entry in its place, nothing the run added.
    keys, handler = list(registry.BY_NAME), registry.BY_NAME["renamed"]
    mods.write("plugin", source.format(key="other", v=9) + "register('more')(h)\n1 / 0\n")
    assert not hotmod.reload(plugin).ok
    assert list(registry.BY_NAME) == keys and registry.BY_NAME["renamed"] is handler
    assert plugin.h() == 5


def test_a_big_list_the_run_appends_its_entries_to_again_is_cut_back_in_c(
    mods: Modules, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A program's list of 70,000 entries that the plugin appends its handler to on each
    # run: the previous entries stay where they were, the appended ones go, without a
    # settle reading each entry in Python (7 s a reload at five million entries). The
    # places holding the handler are noted as the list is found: the first reload's
    # settle read it whole four times, and the second reload once more to note them
    # (2.4 s and 0.44 s at five million entries; 0.4 s and 1.5 ms now).
    from hotmod._runtime import get_reloader

    mods.write(
        "registry",
        "EVENTS = list(range(70_000))\n\ndef register(f):\n    EVENTS.append(f)\n    return f\n",
    )
    source = "from PFX_registry import register\n\n@register\ndef h():\n    return {v}\n"
    mods.write("plugin", source.format(v=0))
    registry, plugin = mods.load("registry"), mods.load("plugin")
    mods.write("plugin", source.format(v=1))
    mods.reload("plugin")  # (the first reload finds the registries)
    slots = get_reloader().registries._slots
    assert slots.get((plugin.__name__, id(registry.EVENTS))) == [70_000]
    slow = calls_to(monkeypatch, "_settle_sequence", "_settle")
    slow += calls_to(monkeypatch, "_as_made", "_settle")
    for v in (2, 3):
        mods.write("plugin", source.format(v=v))
        mods.reload("plugin")
        assert len(registry.EVENTS) == 70_001 and registry.EVENTS[-1] is plugin.h
        assert plugin.h() == v
    assert slow == []
    mods.write("plugin", source.format(v=4) + "1 / 0\n")
    assert not hotmod.reload(plugin).ok  # (a failed run leaves the list as it was)
    assert len(registry.EVENTS) == 70_001 and registry.EVENTS[-1]() == 3


def test_a_programs_long_data_holding_a_handler_is_kept_and_not_copied_for_a_rollback(
    mods: Modules, caplog: pytest.LogCaptureFixture
) -> None:
    # A list and a dict of the program's, 70,000 entries each, holding the plugin's
    # registered handler, in a module the plugin imports. The dict lost all its entries
    # on the first reload, taken out as the plugin's registrations; each reload copied
    # both for a rollback (50 ms a reload at five million entries, failed or not), and a
    # failed one rebuilt the dict key by key (1.8 s at three million). What a failed run
    # added to them goes without a copy; a run that changed them otherwise leaves them
    # so, and the log says it.
    mods.write(
        "registry", "HANDLERS = []\ndef register(f):\n    HANDLERS.append(f)\n    return f\n"
    )
    mods.write("data", "ROWS = []\nBY_KEY = {}\n")
    source = (
        "import PFX_data as data\nfrom PFX_registry import register\n\n"
        "@register\ndef h():\n    return {v}\n"
    )
    mods.write("plugin", source.format(v=0))
    data, plugin = mods.load("data"), mods.load("plugin")
    data.ROWS.extend([plugin.h] * 70_000)
    data.BY_KEY.update(dict.fromkeys(range(70_000), plugin.h))
    for v in (1, 2):
        mods.write("plugin", source.format(v=v))
        mods.reload("plugin")  # (the first reload finds where the handler is held)
        assert len(data.ROWS) == len(data.BY_KEY) == 70_000 and data.BY_KEY[9]() == v
    added = "data.ROWS.append(h)\ndata.BY_KEY['late'] = h\n1 / 0\n"
    mods.write("plugin", source.format(v=3) + added)
    assert not hotmod.reload(plugin).ok
    assert len(data.ROWS) == 70_000 and all(f is plugin.h for f in data.ROWS)
    assert list(data.BY_KEY) == list(range(70_000)) and plugin.h() == 2
    mods.write("plugin", source.format(v=4) + "data.ROWS[0] = None\n1 / 0\n")
    with caplog.at_level(logging.WARNING, logger="hotmod"):
        assert not hotmod.reload(plugin).ok
    assert data.ROWS[0] is None and len(data.ROWS) == 70_000 and plugin.h() == 2
    assert "changed a list of 70000 entries beyond adding to it" in caplog.text


def test_a_list_the_modules_of_a_reload_share_is_seen_as_each_found_it() -> None:
    # Each module reads only what the modules before it appended (a registry of N
    # plugins was read whole by each), and reads it whole again after anything else.
    from hotmod._settle import Seen, Shared

    items = [object() for _ in range(5)]
    registry = list(items)
    record = Shared(registry)
    first = record.look("plugin")
    registry.append(appended := object())
    second = record.look("plugin")
    registry.insert(0, inserted := object())  # (not an append)
    third = record.look("plugin")
    assert first.ids() == list(map(id, items))
    assert second.ids() == list(map(id, [*items, appended]))
    assert third.ids() == list(map(id, [inserted, *items, appended]))
    # A program's data longer than a registry is read when asked, if its ends are those
    # seen; else it can no longer be told.
    later = Seen.later(registry)
    registry.append(object())
    assert later.ids() == list(map(id, [inserted, *items, appended]))
    registry.remove(inserted)
    assert later.ids() is None


def test_a_name_defined_and_registered_several_times_holds_as_many_entries(
    mods: Modules,
) -> None:
    # Only the last definition of a name is bound (and so known): the others' previous
    # objects stayed in the lists, two more on each reload.
    mods.write("leaf", "VALUE = 0\n")
    mods.write(
        "reg",
        "REG = []\nPLUGINS = []\n\ndef register(f):\n    REG.append(f)\n    return f\n\n"
        "class Plugin:\n    def __init_subclass__(cls):\n        PLUGINS.append(cls)\n",
    )
    block = (
        "from PFX_leaf import VALUE\nfrom PFX_reg import register, Plugin\n\n"
        "@register\ndef h(x):\n    return x + VALUE\n\n"
        "class P(Plugin):\n    def run(self):\n        return VALUE\n\n"
    )
    mods.write("dep", block * 3)
    reg, dep = mods.load("reg"), mods.load("dep")
    for value in (1, 2, 3):
        mods.write("leaf", f"VALUE = {value}\n")
        mods.reload("leaf")
        assert [h(1) for h in reg.REG] == [value + 1] * 3
        assert [p().run() for p in reg.PLUGINS] == [value] * 3
        assert dep.h in reg.REG and dep.P in reg.PLUGINS
        assert len(set(map(id, reg.REG))) == len(set(map(id, reg.PLUGINS))) == 3
        assert reg.REG[-1] is dep.h and reg.PLUGINS[-1] is dep.P


def test_the_heap_walks_never_read_a_module_s_own_state() -> None:
    # asyncio's C module lists freed future iterators among its referents (CPython
    # 3.12.1, gh-122695): holding one corrupts the heap, and a later collection looped
    # forever (the 3.12 CI run hung in test_transaction).
    import _asyncio
    import asyncio

    from hotmod._reach import referents, referrers

    loop = asyncio.new_event_loop()
    try:
        future = loop.create_future()
        iterator = iter(future)
        del iterator  # (to the free list)
        assert referents(_asyncio) == [vars(_asyncio)]
        assert referents(_asyncio, future) == [vars(_asyncio), *gc.get_referents(future)]
        holders = referrers([object() for _ in range(500)] + [vars(_asyncio)])
        assert _asyncio in holders
    finally:
        loop.close()
    gc.collect()


def test_twins_in_a_list_registry_several_modules_share_are_as_a_fresh_import_has_them(
    mods: Modules,
) -> None:
    # Two dependents of a leaf register into one list; one defines and registers a name
    # twice. The previous version's first twin goes though the modules settle the list
    # one after the other (a module settled before shortens it) or all at once (the
    # twin no longer defined), and when the source stops registering the name, the
    # other definitions of it go with the bound one.
    mods.write("leaf", "VALUE = 0\n")
    mods.write("reg", "REG = []\n\ndef register(f):\n    REG.append(f)\n    return f\n")
    first = "@register\ndef h():\n    return ('first', VALUE)\n\n"
    last = "@register\ndef h():\n    return ('last', VALUE)\n"
    head = "from PFX_leaf import VALUE\nfrom PFX_reg import register\n\n"
    mods.write("a", head + "@register\ndef g():\n    return ('g', VALUE)\n")
    mods.write("b", head + first + last)
    reg, b = mods.load("reg"), (mods.load("a"), mods.load("b"))[1]
    for value in (1, 2):
        mods.write("leaf", f"VALUE = {value}\n")
        mods.reload("leaf")
        assert sorted(f() for f in reg.REG) == [("first", value), ("g", value), ("last", value)]
        assert b.h in reg.REG and len(set(map(id, reg.REG))) == 3
    mods.write("b", head + last)  # (registered once now)
    mods.write("leaf", "VALUE = 3\n")
    mods.reload("leaf")
    assert sorted(f() for f in reg.REG) == [("g", 3), ("last", 3)]
    mods.write("b", head + first + last)
    mods.reload("b")
    mods.write("b", head + "def h():\n    return ('bare', VALUE)\n")
    mods.reload("b")
    assert [f() for f in reg.REG] == [("g", 3)]


def test_a_reference_to_a_name_defined_several_times_runs_its_last_definition(
    mods: Modules,
) -> None:
    # The object a name is bound to is the last definition's: references taken before
    # a reload must run that one's new code, not an ``@overload`` stub's or the first
    # registered twin's. The earlier definitions are made anew, as a fresh import has them.
    mods.write("reg", "REG = []\n\ndef register(f):\n    REG.append(f)\n    return f\n")
    source = """
        from typing import overload
        from PFX_reg import register

        @overload
        def double(x: int) -> int: ...
        @overload
        def double(x: str) -> str: ...
        def double(x):
            return x * {n}

        @register
        def h():
            return "first {v}"

        @register
        def h():
            return "last {v}"

        class Shape:
            @overload
            def scale(self, x: int) -> int: ...
            @overload
            def scale(self, x: float) -> float: ...
            def scale(self, x):
                return x * {n}

            @property
            def size(self):
                return self._size * {n}

            @size.setter
            def size(self, value):
                self._size = value + {n}
    """
    mods.write("dep", source.format(n=2, v="v0"))
    reg, dep = mods.load("reg"), mods.load("dep")
    held = (dep.double, dep.h, dep.Shape.scale, dep.Shape.size.fget, dep.Shape.size.fset)
    shape = dep.Shape()
    for n, version in enumerate(VERSIONS, start=3):
        mods.write("dep", "# moved down\n" * n + textwrap.dedent(source.format(n=n, v=version)))
        mods.reload("dep")
        double, h, scale, getter, setter = held
        assert double(2) == dep.double(2) == 2 * n and double is dep.double
        if sys.version_info >= (3, 11):  # (typing keeps the stubs by line: the moved go)
            assert len(typing.get_overloads(dep.double)) == 2
        assert h() == f"last {version}" and h is dep.h
        assert [f() for f in reg.REG] == [f"first {version}", f"last {version}"]
        assert reg.REG[-1] is dep.h
        assert scale(shape, 2) == 2 * n and scale is dep.Shape.scale
        shape.size = 1
        assert shape.size == (1 + n) * n
        assert (getter, setter) == (dep.Shape.size.fget, dep.Shape.size.fset)
    # A run that fails leaves everything as the last one did, the stubs registered too.
    stubs = typing.get_overloads(dep.double) if sys.version_info >= (3, 11) else []
    mods.write("dep", "# moved\n" + textwrap.dedent(source.format(n=9, v="v9")) + "1 / 0\n")
    assert not hotmod.reload(dep).ok
    assert held[0](2) == 2 * (len(VERSIONS) + 2) and held[1]() == f"last {VERSIONS[-1]}"
    if sys.version_info >= (3, 11):
        assert typing.get_overloads(dep.double) == stubs


def test_a_list_several_reloaded_modules_register_in_reads_as_a_fresh_import_has_it(
    mods: Modules,
) -> None:
    # Plugins that import one module run again with it. Each one's entries take its
    # previous places; more entries follow them, entries a source stopped making or
    # an earlier definition of a name defined twice go; a plugin registering there
    # for the first time goes where its import puts it. They all went to the end.
    mods.write("registry", "REG = []\ndef register(f):\n    REG.append(f)\n    return f\n")
    mods.write("common", "VALUE = 1\n")

    def plugin(*names: str, plain: tuple[str, ...] = ()) -> str:
        head = "from PFX_registry import register\nfrom PFX_common import VALUE\n\n"
        body = "".join(f"@register\ndef {n}():\n    return VALUE\n\n" for n in names)
        return head + body + "".join(f"def {n}():\n    return VALUE\n\n" for n in plain)

    sources = {
        "p1": plugin("p1a"),
        "p2": plugin("p2a"),
        "p3": plugin(plain=("p3a",)),
        "p4": plugin("p4a"),
    }
    for name, text in sources.items():
        mods.write(name, text)
    registry = mods.load("registry")
    plugins = {name: mods.load(name) for name in sources}

    def names() -> list[str]:
        return [f.__name__ for f in registry.REG]

    def reload(value: int, **edits: str) -> hotmod.ReloadReport:
        mods.write("common", f"VALUE = {value}\n")
        for name, text in edits.items():
            mods.write(name, text)
        return hotmod.reload(mods.name("common"), *map(mods.name, edits))

    assert names() == ["p1a", "p2a", "p4a"]
    # p2 registers one more, p3 for the first time (a function it had, and a new one),
    # p4 a new one before its own.
    report = reload(2, p2=plugin("p2a", "p2b"), p3=plugin("p3a", "p3b"), p4=plugin("p4z", "p4a"))
    assert report.ok, report.error
    assert names() == ["p1a", "p2a", "p2b", "p3a", "p3b", "p4z", "p4a"]
    # p1 registers its name twice (the first definition is made anew each run), p2
    # stops registering one.
    assert reload(3, p1=plugin("p1a", "p1a"), p2=plugin("p2b")).ok
    assert names() == ["p1a", "p1a", "p2b", "p3a", "p3b", "p4z", "p4a"]
    assert [f() for f in registry.REG] == [3] * 7
    assert registry.REG[1] is plugins["p1"].p1a and registry.REG[0] is not registry.REG[1]
    before = list(registry.REG)
    # A failed run leaves the list as it was, its order included.
    assert not reload(4, p3=plugin("p3b", "p3a"), p4=plugin("p4a") + "1 / 0\n").ok
    assert list(map(id, registry.REG)) == list(map(id, before))
    assert reload(4, p3=plugin("p3b", "p3a"), p4=plugin("p4a")).ok
    assert names() == ["p1a", "p1a", "p2b", "p3b", "p3a", "p4a"]
    assert [f() for f in registry.REG] == [4] * 6


def test_a_module_registering_in_a_list_for_the_first_time_takes_its_import_place(
    mods: Modules,
) -> None:
    # Reloaded alone, a module that had no entry in a list (a decorator newly put on a
    # function, a new subclass) gets its entries where a fresh import makes them:
    # after those of the modules imported before it, before the others'.
    mods.write(
        "registry",
        "REG = []\nPLUGINS = []\n\ndef register(f):\n    REG.append(f)\n    return f\n\n"
        "class Plugin:\n    def __init_subclass__(cls):\n        PLUGINS.append(cls)\n",
    )
    head = "from PFX_registry import register, Plugin\n\n"
    for name in ("a", "c"):
        mods.write(
            name,
            head
            + f"@register\ndef {name}():\n    pass\n\nclass {name.upper()}(Plugin):\n    pass\n",
        )
    mods.write("b", head + "def b():\n    pass\n")
    registry = mods.load("registry")
    a, b, c = mods.load("a"), mods.load("b"), mods.load("c")
    assert [f.__name__ for f in registry.REG] == ["a", "c"]
    mods.write("b", head + "@register\ndef b():\n    pass\n\nclass B(Plugin):\n    pass\n")
    mods.reload("b")
    assert [a.a, b.b, c.c] == registry.REG
    assert registry.PLUGINS == [a.A, b.B, c.C]
    mods.write("b", head + "@register\ndef b():\n    pass\n\n@register\ndef b2():\n    pass\n")
    mods.reload("b")  # (the subclass gone, a second function after the first)
    assert [a.a, b.b, b.b2, c.c] == registry.REG
    assert registry.PLUGINS == [a.A, c.C]


def test_a_decorator_newly_put_on_a_function_registers_it_once_on_every_later_reload(
    mods: Modules,
) -> None:
    # The reload that first registers a function looks for its registries before the
    # run registers it: it found none, remembered none, and every later reload of the
    # module added a twin. Likewise a new registration in a list it did not use.
    mods.write(
        "registry",
        "REG = []\nOTHER = []\n\ndef register(f):\n    REG.append(f)\n    return f\n\n"
        "def other(f):\n    OTHER.append(f)\n    return f\n",
    )
    head = "from PFX_registry import register, other\n\n"
    mods.write("b", head + "def b():\n    return 0\n\ndef b2():\n    return 0\n")
    registry = mods.load("registry")
    b = mods.load("b")
    for n in range(1, 4):
        mods.write("b", head + f"@register\ndef b():\n    return {n}\n\ndef b2():\n    return 0\n")
        mods.reload("b")
        assert [b.b] == registry.REG and b.b() == n
    for n in range(1, 4):
        mods.write(
            "b",
            head + f"@register\ndef b():\n    return 0\n\n@other\ndef b2():\n    return {n}\n",
        )
        mods.reload("b")
        assert [b.b] == registry.REG and [b.b2] == registry.OTHER and b.b2() == n


def list_registry(mods: Modules) -> str:
    """Write a module ``registry`` whose ``register`` appends to its list ``REG``; the
    line importing ``register``."""
    mods.write("registry", "REG = []\n\ndef register(f):\n    REG.append(f)\n    return f\n")
    return "from PFX_registry import register\n\n"


def test_a_failed_run_takes_back_what_it_first_registered_and_leaves_nothing_to_find(
    mods: Modules,
) -> None:
    # The failed run registered the function where no registry held it before: the
    # rollback takes it out (it stayed, running the old code). And nothing of the failed
    # transaction outlives it (its snapshots, held by the report's traceback and by the
    # integrations' view), which the next reload's heap walk took for registries.
    head = list_registry(mods)
    mods.write("a", head + "@register\ndef a():\n    return 0\n")
    mods.write("b", head + "def b():\n    return 0\n")
    mods.write("c", head + "@register\ndef c():\n    return 0\n")
    registry = mods.load("registry")
    a, b, c = mods.load("a"), mods.load("b"), mods.load("c")
    # (a class attribute naming it is no registry: it stays)
    mods.write("h", "from PFX_b import b\n\nclass H:\n    on_save = b\n")
    h = mods.load("h")
    mods.write("b", head + "@register\ndef b():\n    return 1\n\n1 / 0\n")
    report = hotmod.reload(mods.name("b"))
    assert not report.ok and isinstance(report.error, ZeroDivisionError)
    assert [a.a, c.c] == registry.REG and b.b() == 0
    assert h.H.on_save is b.b
    gc.disable()  # (what outlives the transaction must not wait for the collector)
    try:
        for n in range(1, 4):
            mods.write("b", head + f"@register\ndef b():\n    return {n}\n")
            mods.reload("b")
            assert [a.a, b.b, c.c] == registry.REG and b.b() == n
    finally:
        gc.enable()


def test_a_failed_run_takes_back_a_new_subclass_its_base_registered(mods: Modules) -> None:
    # The class that becomes a subclass is a new class (its bases changed), registered
    # by __init_subclass__ as the run created it: no registry held the previous one, so
    # the rollback looks for the new one too. It stayed, and the next reload's made two.
    mods.write(
        "base",
        "SUBS = []\n\nclass Plugin:\n    def __init_subclass__(cls):\n        SUBS.append(cls)\n",
    )
    head = "from PFX_base import Plugin\n\n"
    mods.write("a", head + "class A(Plugin):\n    pass\n")
    mods.write("b", head + "class B:\n    x = 0\n")
    base, a, b = mods.load("base"), mods.load("a"), mods.load("b")
    mods.write("b", head + "class B(Plugin):\n    x = 1\n\n1 / 0\n")
    assert not hotmod.reload(mods.name("b")).ok
    assert [a.A] == base.SUBS and b.B.x == 0
    for n in range(2, 4):
        mods.write("b", head + f"class B(Plugin):\n    x = {n}\n")
        mods.reload("b")
        assert [a.A, b.B] == base.SUBS and b.B.x == n


def test_after_a_cycle_ran_again_a_first_entry_still_follows_the_cycles_entries(
    mods: Modules,
) -> None:
    # A cycle that runs again finishes last in sys.modules, after a module imported
    # later: a module registering for the first time went before the cycle's entries,
    # where a fresh import puts it after them.
    head = list_registry(mods)
    mods.write("x", head + "@register\ndef x():\n    pass\n\nimport PFX_y\n")
    mods.write("y", "import PFX_x\n" + head + "@register\ndef y():\n    pass\n")
    mods.write("b", head + "def b():\n    pass\n")
    registry = mods.load("registry")
    x, b = mods.load("x"), mods.load("b")
    y = sys.modules[mods.name("y")]
    mods.write("x", head + "@register\ndef x():\n    return 1\n\nimport PFX_y\n")
    report = mods.reload("x")
    assert report.ok, report.error
    assert set(report.reloaded) == {mods.name("x"), mods.name("y")}
    assert [x.x, y.y] == registry.REG
    mods.write("b", head + "@register\ndef b():\n    pass\n")
    mods.reload("b")
    assert [x.x, y.y, b.b] == registry.REG
    # The next cycle's run keeps it so, and a module imported after it still comes last.
    assert mods.reload("y").ok
    mods.write("c", head + "@register\ndef c():\n    pass\n")
    c = mods.load("c")
    assert [x.x, y.y, b.b, c.c] == registry.REG
    mods.write("b", head + "@register\ndef b():\n    pass\n\n@register\ndef b2():\n    pass\n")
    mods.reload("b")
    assert [x.x, y.y, b.b, b.b2, c.c] == registry.REG


def subclass_plugins(mods: Modules, store: str) -> tuple[Any, tuple[type, ...]]:
    """A base class whose ``__init_subclass__`` runs ``store``, and twelve plugins
    subclassing it that import a leaf: (the base module, the plugin classes)."""
    mods.write(
        "base",
        "ALSO = set()\n\nclass Plugin:\n    subs = []\n\n    def __init_subclass__(cls):\n"
        f"        {store}\n",
    )
    mods.write("leaf", "VALUE = 0\n")
    for i in range(12):
        mods.write(
            f"p{i}",
            f"from PFX_leaf import VALUE\nfrom PFX_base import Plugin\n\n"
            f"class P{i}(Plugin):\n    value = VALUE\n",
        )
    base = mods.load("base")
    return base, tuple(getattr(mods.load(f"p{i}"), f"P{i}") for i in range(12))


def test_a_class_put_back_in_a_subclass_list_leaves_no_copy_taken_for_a_registry(
    mods: Modules, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `__init_subclass__` stores each plugin's new class in a list of their base, and
    # hotmod puts the kept class back in its place. The undo of that held a plain copy
    # of the list: the next plugins of the reload found the copies holding their
    # classes and settled each one (a reload of 200 plugins took 11 s, not 0.1 s).
    base, plugins = subclass_plugins(mods, "Plugin.subs.append(cls)")
    settled = calls_to(monkeypatch, "settle_containers")
    whole = calls_to(monkeypatch, "_replace_in", "_define")
    for value in (1, 2, 3):
        mods.write("leaf", f"VALUE = {value}\n")
        mods.reload("leaf")
        assert tuple(base.Plugin.subs) == plugins
        assert [p.value for p in base.Plugin.subs] == [value] * 12
    assert all(c is base.Plugin.subs for call in settled for c in call[0])
    # Each plugin's new class was the list's last entry, and every reference to it:
    # the list was not read whole once per plugin.
    assert whole == []
    # A failed run puts the classes back as they were.
    mods.write(
        "p11",
        "from PFX_leaf import VALUE\nfrom PFX_base import Plugin\n\n"
        "class P11(Plugin):\n    value = VALUE\n1 / 0\n",
    )
    mods.write("leaf", "VALUE = 4\n")
    assert not hotmod.reload(mods.name("leaf")).ok
    assert tuple(base.Plugin.subs) == plugins and [p.value for p in plugins] == [3] * 12


def test_a_class_a_subclass_registry_holds_anywhere_is_put_back_in_its_place(
    mods: Modules,
) -> None:
    # `__init_subclass__` puts each new class first, out of the last entries hotmod
    # reads before reading the list whole; a second list holds them too.
    base, plugins = subclass_plugins(mods, "Plugin.subs.insert(0, cls)\n        ALSO.add(cls)")
    for value in (1, 2):
        mods.write("leaf", f"VALUE = {value}\n")
        mods.reload("leaf")
        assert tuple(base.Plugin.subs) == plugins[::-1]
        assert set(plugins) == base.ALSO and len(base.ALSO) == 12
        assert [p.value for p in base.Plugin.subs] == [value] * 12


# -- what the near looks of one reload read once ------------------------------------


def test_a_long_registry_read_once_per_reload_counts_only_what_is_still_there() -> None:
    # A list or dict N plugins share is read by the first near look of a reload, then
    # only where it grew. What it holds is counted once per place, as a whole read
    # would, and never where it no longer is: an entry moved or replaced falls short,
    # so the look walks the heap rather than trusting a count that is not there.
    from hotmod._holders import Tallies, near_containers

    tallies = Tallies()
    # (the handler is bound in the namespace only: each reference to it is near)
    namespace: dict[str, Any] = {"handler": lambda: None, "other": lambda: None}
    plugins: list[object] = [object() for _ in range(100)]
    namespace["PLUGINS"] = plugins
    plugins[50] = namespace["handler"]
    index = {id(namespace["handler"]): 0, id(namespace["other"]): 1}
    assert tallies.hits(plugins, index) == [0]
    plugins.append(namespace["handler"])  # (read where it grew)
    assert tallies.hits(plugins, index) == [0, 0]
    plugins[50] = namespace["other"]  # (replaced in place: its place checked, not trusted)
    assert tallies.hits(plugins, index) == [0]
    look = functools.partial(near_containers, namespaces=[namespace], adapted=frozenset())
    assert look([namespace["handler"]], tallies=tallies) == ([plugins], [])
    plugins.remove(namespace["handler"])
    plugins.insert(10, namespace["handler"])  # (moved: it falls short, the look says so)
    assert tallies.hits(plugins, index) == []
    assert look([namespace["handler"]], tallies=tallies) is None
    assert look([namespace["handler"]]) == ([plugins], [])  # (read whole, it is there)

    table: dict[object, object] = {f"k{i}": object() for i in range(100)}
    table["mine"], table[namespace["other"]] = namespace["handler"], "as a key"
    del namespace["PLUGINS"], plugins
    namespace["TABLE"] = table
    assert sorted(tallies.hits(table, index)) == [0, 1]
    assert look([namespace["handler"]], tallies=tallies) == ([table], [])
    del table["mine"]
    table["again"] = namespace["handler"]  # (a key added after the read: short)
    assert tallies.hits(table, index) == [1]
    assert look([namespace["handler"]], tallies=tallies) is None
    assert look([namespace["handler"]]) == ([table], [])

    class Same:  # (equal to every other one: a dict finds one for the other)
        def __eq__(self, other: object) -> bool:
            return isinstance(other, Same)

        def __hash__(self) -> int:
            return 0

    first, second = Same(), Same()
    keyed: dict[object, int] = {f"k{i}": i for i in range(100)}
    keyed[first] = 0
    assert tallies.hits(keyed, {id(first): 0}) == []  # (not by identity: not counted)
    del keyed[first]
    keyed[second] = 0
    assert tallies.hits(keyed, {id(first): 0}) == []
