"""pluggy: a host holding its plugin manager runs edited plugins, once each, in their order.

The host (``tests/projects/pluggy_host``) runs under ``hotmod run`` and answers one
command per stdin line; the test saves edits as editors do and waits for the log.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness_shell import Shell, edit, save, shell_in

pytest.importorskip("pluggy")

PROJECT = Path(__file__).parent / "projects" / "pluggy_host"


def test_plugins_registered_at_import_are_there_once_in_their_order(tmp_path: Path) -> None:
    with shell_in(PROJECT, tmp_path) as shell:
        _edit_plugins(shell)


def _edit_plugins(shell: Shell) -> None:
    host = shell.root / "host"
    assert shell.run("greet") == "['module hello', 'hello']"
    assert shell.run("first") == "bye"  # (the latest registered answers first)
    assert shell.run("plugins") == "3"

    # An instance of the module's class and the module itself, registered again: once,
    # where they were (a plugin registered last would answer the firstresult hook).
    shell.reloaded(lambda: edit(host / "greeters.py", 'return "hello"', 'return "hello v2"'))
    assert shell.run("greet") == "['module hello', 'hello v2']"
    assert shell.run("first") == "bye"
    assert shell.run("plugins") == "3"

    # A module adding a hook specification and a named plugin (pluggy refuses both
    # a second time).
    shell.reloaded(
        lambda: edit(host / "more.py", '        return "bye"\n\n', '        return "bye v2"\n\n')
    )
    assert shell.run("farewell") == "['bye v2']"
    assert shell.run("first") == "bye"
    assert shell.run("plugins") == "3"

    # A failed run leaves the plugins as they were, in their order.
    greeters = host / "greeters.py"
    failures = sum("kept the previous code" in line for line in shell.err)
    source = greeters.read_text()
    save(greeters, source.replace("v2", "v3") + '\nraise RuntimeError("boom")\n', atomic=True)
    shell.wait(
        lambda: sum("kept the previous code" in line for line in shell.err) > failures,
        "the failure",
    )
    assert shell.run("greet") == "['module hello', 'hello v2']"
    assert shell.run("first") == "bye"
    assert shell.run("plugins") == "3"

    # A registration removed from the source: its plugin goes.
    shell.reloaded(
        lambda: save(
            greeters, source.replace("pm.register(sys.modules[__name__])\n", ""), atomic=True
        )
    )
    assert shell.run("greet") == "['hello v2']"
    assert shell.run("plugins") == "2"
