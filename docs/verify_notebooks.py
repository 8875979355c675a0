"""Run the same notebook sessions under ``%load_ext hotmod`` and IPython's ``%autoreload``.

Each scenario runs in a fresh interpreter with a real ``InteractiveShell``: cells, files
saved between them, and a last cell whose value is compared with what a fresh import of
the new code would give. Prints a Markdown table (the one in ``docs/notebooks.md``).

    python docs/verify_notebooks.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")

# Child prelude: a shell, cells, and saves that also move the mtime forward (autoreload
# compares mtimes; hotmod waits until its watcher holds the change).
PRELUDE = """
import os, sys, tempfile, textwrap, time
os.environ["IPYTHONDIR"] = tempfile.mkdtemp()
sys.stderr = sys.stdout
from traitlets.config import Config
from IPython.core.interactiveshell import InteractiveShell
config = Config()
config.HistoryManager.hist_file = ":memory:"
shell = InteractiveShell.instance(config=config)
TOOL = {tool!r}
tick = [time.time() + 10]

def cell(source):
    result = shell.run_cell(textwrap.dedent(source))
    return result.result

def save(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(textwrap.dedent(text))
    os.replace(path + ".tmp", path)
    tick[0] += 2
    os.utime(path, (tick[0], tick[0]))
    if TOOL == "hotmod":
        from hotmod._watcher import current_watcher
        deadline = time.monotonic() + 30
        while not current_watcher().pending:
            assert time.monotonic() < deadline, "the watcher never saw the save"
            time.sleep(0.002)

if TOOL == "hotmod":
    import hotmod._ipython
    hotmod._ipython.load_ipython_extension(shell)
else:
    cell("%load_ext autoreload")
    cell("%autoreload " + TOOL.split()[-1])
"""

M = """
LIMIT = 3
SIZE = 3
def f():
    return "old"
class Greeter:
    def hello(self):
        return "old"
"""

NEW_M = M.replace('"old"', '"new"').replace("3", "4")


@dataclass
class Scenario:
    """A session: files, then cells and saves; the last cell's value is the outcome."""

    title: str
    files: dict[str, str]
    steps: str
    expected: str


SCENARIOS = [
    Scenario(
        "function edit seen by the next cell",
        {"m.py": M},
        'cell("from m import f"); save("m.py", NEW_M); print(repr(cell("f()")))',
        "'new'",
    ),
    Scenario(
        "live instance runs the new method, `isinstance` holds",
        {"m.py": M},
        'cell("import m; g = m.Greeter()"); save("m.py", NEW_M)\n'
        'print(repr(cell("(g.hello(), isinstance(g, m.Greeter))")))',
        "('new', True)",
    ),
    Scenario(
        "`from m import LIMIT` rebound",
        {"m.py": M},
        'cell("from m import LIMIT"); save("m.py", NEW_M); print(repr(cell("LIMIT")))',
        "4",
    ),
    Scenario(
        "`from m import LIMIT as cap` rebound",
        {"m.py": M},
        'cell("from m import LIMIT as cap"); save("m.py", NEW_M); print(repr(cell("cap")))',
        "4",
    ),
    Scenario(
        "user's own `SIZE = 3` (equal to `m.SIZE`) left alone",
        {"m.py": M},
        'cell("import m; SIZE = 3"); save("m.py", NEW_M); print(repr(cell("(SIZE, m.SIZE)")))',
        "(3, 4)",
    ),
    Scenario(
        "value computed by an importer (`from app import total`) updated",
        {"m.py": M, "app.py": "from m import LIMIT\ntotal = LIMIT * 2\n"},
        'cell("from app import total"); save("m.py", NEW_M); print(repr(cell("total")))',
        "8",
    ),
    Scenario(
        "exception at import: module as before (a name added before the raise is gone)",
        {"m.py": M},
        'cell("import m"); save("m.py", NEW_M + "EXTRA = 1\\nraise RuntimeError(1)\\n")\n'
        "print(repr(cell(\"(m.LIMIT, m.f(), hasattr(m, 'EXTRA'))\")))",
        "(3, 'old', False)",
    ),
    Scenario(
        "syntax error, then the fix applies",
        {"m.py": M},
        'cell("from m import f"); save("m.py", M + "def broken(:\\n")\n'
        'cell("f()"); save("m.py", NEW_M); print(repr(cell("f()")))',
        "'new'",
    ),
]

STAT_CHECK = """
import builtins, os
for i in range(300):
    with open(f"mod{i}.py", "w") as fh:
        fh.write("X = 1\\n")
cell("; ".join(f"import mod{i}" for i in range(300)))
cell("pass")
count = [0]
real_stat = os.stat
def counting_stat(*args, **kwargs):
    count[0] += 1
    return real_stat(*args, **kwargs)
os.stat = counting_stat
cell("pass")
os.stat = real_stat
print(count[0])
"""


def run(tool: str, files: dict[str, str], body: str) -> str:
    """Run a session in a fresh interpreter; return its last printed line."""
    with tempfile.TemporaryDirectory() as root:
        for name, text in files.items():
            with open(os.path.join(root, name), "w") as f:
                f.write(textwrap.dedent(text))
        script = PRELUDE.format(tool=tool) + f"M = {M!r}\nNEW_M = {NEW_M!r}\n" + body
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, root])}
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        proc = subprocess.run(
            [sys.executable, "-c", script],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        lines = proc.stdout.strip().splitlines()
        if proc.returncode != 0 or not lines:
            return "error: " + (proc.stderr.strip().splitlines() or ["?"])[-1]
        return lines[-1]


def main() -> None:
    """Print the comparison table."""
    import IPython

    tools = ["hotmod", "autoreload 2", "autoreload 3"]
    print(f"IPython {IPython.__version__}, Python {sys.version.split()[0]}\n")
    print("| Session | " + " | ".join(f"`{t}`" for t in tools) + " |")
    print("|---|" + "---|" * len(tools))
    for scenario in SCENARIOS:
        cells = []
        for tool in tools:
            got = run(tool, scenario.files, scenario.steps)
            cells.append("yes" if got == scenario.expected else f"no (`{got}`)")
        print(f"| {scenario.title} | " + " | ".join(cells) + " |")
    stats = [run(tool, {}, STAT_CHECK) for tool in tools]
    title = "`os.stat` calls before an empty cell, 300 modules loaded"
    print(f"| {title} | " + " | ".join(stats) + " |")


if __name__ == "__main__":
    main()
