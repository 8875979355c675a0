"""``hotmod demo``: a small app that edits itself while it runs under ``hotmod run``."""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

__all__ = ["run_demo"]

APP = {
    "greet.py": """
        def greeting(name):
            return f"Hello, {name}"
    """,
    "pricing.py": """
        TAX_RATE = 0.20

        def with_tax(amount):
            return round(amount * (1 + TAX_RATE), 2)
    """,
    "cart.py": """
        from pricing import TAX_RATE, with_tax

        class Cart:
            def __init__(self):
                self.items = []

            def add(self, price):
                self.items.append(price)

            def describe(self):
                return f"{len(self.items)} items, {with_tax(sum(self.items))} with tax"
    """,
    "app.py": """
        import os
        import time

        import cart
        import greet
        from pricing import TAX_RATE

        basket = cart.Cart()  # a live instance: its state survives every reload
        for tick in range(1, 400):
            if os.path.exists("stop"):
                break
            basket.add(10)
            print(f"[tick {tick}] {greet.greeting('world')} | {basket.describe()}"
                  f" | tax rate {TAX_RATE}", flush=True)
            time.sleep(0.25)
    """,
}

# (what the demo says, file, old text, new text, what the app prints once it has applied)
EDITS: list[tuple[str, str, str, str, tuple[str, ...]]] = [
    (
        "change the body of greet.greeting()",
        "greet.py",
        "Hello",
        "Bonjour",
        ("reloaded greet", "Bonjour, world"),
    ),
    (
        "change pricing.TAX_RATE, a constant that cart.py and app.py import with `from`",
        "pricing.py",
        "0.20",
        "0.10",
        ("reloaded pricing", "tax rate 0.1"),
    ),
    (
        "change Cart.describe() while the live `basket` instance keeps its items",
        "cart.py",
        'f"{len(self.items)} items, ',
        'f"basket of {len(self.items)}: ',
        ("reloaded cart", "basket of"),
    ),
    (
        "save greet.py with a syntax error: the reload is rolled back, the app goes on",
        "greet.py",
        'return f"Bonjour, {name}"',
        'return f"Hej, {name}"  +',
        ("SyntaxError", "Bonjour, world"),
    ),
    (
        "fix the syntax error",
        "greet.py",
        'return f"Hej, {name}"  +',
        'return f"Hej, {name}"',
        ("reloaded greet", "Hej, world"),
    ),
]


def _say(text: str) -> None:
    print(f"\n\033[1mdemo: {text}\033[0m" if sys.stdout.isatty() else f"\ndemo: {text}", flush=True)


def _reader(stream: object, lines: queue.Queue[str | None]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.put(line.rstrip("\n"))
    lines.put(None)


def _wait_for(lines: queue.Queue[str | None], text: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            return False
        if line is None:
            return False
        print(f"  | {line}", flush=True)
        if text in line:
            return True
    return False


def run_demo(*, keep: bool = False, timeout: float = 20.0) -> int:
    """Copy the demo app to a temporary folder, run it under hotmod, edit it, show it."""
    folder = Path(tempfile.mkdtemp(prefix="hotmod-demo-"))
    for name, source in APP.items():
        (folder / name).write_text(textwrap.dedent(source).lstrip())
    _say(f"running `hotmod run app.py` in {folder}")
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
    src = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    child = subprocess.Popen(
        [sys.executable, "-m", "hotmod", "run", "app.py"],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_reader, args=(child.stdout, lines), daemon=True).start()
    ok = _wait_for(lines, "[tick 2]", timeout)
    try:
        for say, file, old, new, expect in EDITS:
            if not ok:
                break
            _say(f"edit {file}: {say}")
            path = folder / file
            path.write_text(path.read_text().replace(old, new))
            ok = all(_wait_for(lines, text, timeout) for text in expect)
        if ok:
            _say("the app kept its state through every edit and was never restarted")
    finally:
        (folder / "stop").touch()
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        while (line := lines.get()) is not None:
            print(f"  | {line}", flush=True)
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    if not ok:
        print("demo: an edit was not applied in time", file=sys.stderr)
        return 1
    return child.returncode
