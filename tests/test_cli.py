"""The hotmod command: run (script and -m), --restart, graph, demo; in-process and end to end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SRC, Project
from hotmod.cli import main


def hotmod_cmd(
    project: Project, *args: str, timeout: float = 60, module: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m hotmod ARGS`` in the project; output is shown only on failure."""
    env = dict(os.environ, PYTHONPATH=SRC, PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        [sys.executable, "-m", "hotmod", *args],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def explain(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"


def test_run_script_behaves_like_python(project: Project) -> None:
    project.write(
        {
            "prog.py": """
                import sys
                print(__name__, sys.argv[1:], sys.path[0] == __import__("os").getcwd())
                sys.exit(int(sys.argv[2]))
            """
        }
    )
    proc = hotmod_cmd(project, "run", "prog.py", "--flag", "3")
    assert proc.returncode == 3, explain(proc)
    assert proc.stdout.split() == ["__main__", "['--flag',", "'3']", "True"]


def test_run_script_exception_exits_1_with_traceback(project: Project) -> None:
    project.write({"boom.py": "raise RuntimeError('boom at top level')\n"})
    proc = hotmod_cmd(project, "run", "boom.py")
    assert proc.returncode == 1, explain(proc)
    assert "RuntimeError: boom at top level" in proc.stderr
    assert 'File "' + str(project.root / "boom.py") in proc.stderr
    assert "hotmod" not in proc.stderr  # the launcher's frames are hidden, as under python


def test_run_module_behaves_like_python_dash_m(project: Project) -> None:
    project.write(
        {
            "pkg/__init__.py": "",
            "pkg/tool.py": """
                import sys
                print(__name__, __spec__.name, sys.argv[1:], sys.argv[0].endswith("tool.py"))
            """,
            "pkg2/__init__.py": "",
            "pkg2/__main__.py": "print('package main', __spec__.name)\n",
        }
    )
    proc = hotmod_cmd(project, "run", "-m", "pkg.tool", "a", "-b")
    assert proc.returncode == 0, explain(proc)
    assert proc.stdout.split() == ["__main__", "pkg.tool", "['a',", "'-b']", "True"]
    proc = hotmod_cmd(project, "run", "-m", "pkg2")
    assert proc.stdout.split() == ["package", "main", "pkg2.__main__"], explain(proc)


def test_script_that_edits_its_own_file(project: Project) -> None:
    # Top-level statements are not run again; functions and classes are updated in place.
    project.write(
        {
            "selfedit.py": """
                import queue, hotmod
                reports = queue.Queue()
                hotmod.watch(on_reload=reports.put)
                print("top level ran")

                def greet():
                    return "old greet"

                class Box:
                    def label(self):
                        return "old label"

                box = Box()
                source = open(__file__).read()
                with open(__file__, "w") as f:  # a new import, used by the edited function
                    f.write("import textwrap\\n" + source.replace(
                        '"old greet"', 'textwrap.dedent("new greet")').replace('"old ', '"new '))
                report = reports.get(timeout=10)
                print(report.ok, report.changed, greet(), box.label(), isinstance(box, Box))
            """
        }
    )
    proc = hotmod_cmd(project, "run", "selfedit.py")
    assert proc.returncode == 0, explain(proc)
    assert proc.stdout.splitlines() == [
        "top level ran",
        "True ['__main__'] new greet new label True",
    ]
    assert "hotmod: reloaded __main__" in proc.stderr


def test_restart_when_a_no_reload_module_changes(project: Project) -> None:
    project.write(
        {
            "frozen.py": "__hotmod_reload__ = False\nVALUE = 1\n",
            "prog.py": """
                import os, sys, time, frozen
                print("started with", frozen.VALUE, flush=True)
                if frozen.VALUE == 1:
                    with open("frozen.py", "w") as f:
                        f.write("__hotmod_reload__ = False\\nVALUE = 2\\n")
                    time.sleep(30)  # the restart ends this process long before
                    sys.exit("not restarted")
            """,
        }
    )
    proc = hotmod_cmd(project, "run", "--restart", "prog.py", timeout=60)
    assert proc.returncode == 0, explain(proc)
    assert proc.stdout.split("\n")[:2] == ["started with 1", "started with 2"], explain(proc)
    assert "restart needed" in proc.stderr


def test_graph_lists_imports_and_dependents(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write(
        {
            "models.py": "X = 1\n",
            "views.py": "import models\n",
            "app.py": "from views import *\nimport json\n",
            ".venv/lib/ignored.py": "import models\n",
            "src/pkg/__init__.py": "from pkg import core\n",
            "src/pkg/core.py": "import models\n",
        }
    )
    monkeypatch.chdir(project.root)
    assert main(["graph"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "app -> views",
        "models",
        "pkg -> pkg.core",
        "pkg.core -> models",
        "views -> models",
    ]
    assert main(["graph", "models"]) == 0
    out = capsys.readouterr().out
    assert sorted(out.splitlines()[1:]) == ["  app", "  pkg", "  pkg.core", "  views"]
    assert main(["graph", "nope"]) == 1


def test_usage_and_unknown_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: hotmod run" in capsys.readouterr().out
    assert main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="unknown option '--nope'"):
        main(["run", "--nope", "x.py"])
    with pytest.raises(SystemExit, match="--debounce takes seconds, not 'soon'"):
        main(["run", "--debounce", "soon", "x.py"])


def test_python_dash_m_hotmod_and_console_script_agree(project: Project) -> None:
    project.write({"hello.py": "print('hello from', __name__)\n"})
    proc = hotmod_cmd(project, "run", "hello.py")
    assert proc.stdout.strip() == "hello from __main__", explain(proc)
    script = Path(sys.executable).parent / "hotmod"
    if not script.exists():
        pytest.skip("the hotmod console script is not installed in this environment")
    env = dict(os.environ, PYTHONPATH=SRC)
    out = subprocess.run(
        [str(script), "run", "hello.py"],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.strip() == "hello from __main__", out.stderr


def test_demo_runs_end_to_end(project: Project) -> None:
    proc = hotmod_cmd(project, "demo", timeout=120)
    assert proc.returncode == 0, explain(proc)
    for text in ("Bonjour, world", "tax rate 0.1", "basket of", "SyntaxError", "Hej, world"):
        assert text in proc.stdout, explain(proc)


def test_ctrl_c_ends_the_program_as_under_python(project: Project) -> None:
    project.write({"sleeper.py": "import time\nprint('ready', flush=True)\ntime.sleep(60)\n"})
    env = dict(os.environ, PYTHONPATH=SRC, PYTHONUNBUFFERED="1")
    codes = []
    for command in (["sleeper.py"], ["-m", "hotmod", "run", "sleeper.py"]):
        proc = subprocess.Popen(
            [sys.executable, *command],
            cwd=project.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=30)
        finally:
            proc.kill()
            proc.wait()
        assert err.rstrip().endswith("KeyboardInterrupt"), err
        codes.append(proc.returncode)
    assert codes[0] == codes[1]


def test_restart_after_a_failed_reload_waits_for_the_fix(project: Project) -> None:
    project.write(
        {
            "helper.py": "VALUE = 1\n",
            "prog.py": """
                import sys, time, helper
                print("started with", helper.VALUE, flush=True)
                if helper.VALUE == 1:
                    with open("helper.py", "w") as f:
                        f.write("VALUE = (\\n")  # the in-place reload fails: restart
                    time.sleep(30)
                    sys.exit("not restarted")
            """,
        }
    )
    env = dict(os.environ, PYTHONPATH=SRC, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hotmod", "run", "--restart", "prog.py"],
        cwd=project.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        seen = []
        for line in proc.stderr:  # the restarted program fails at import, then waits
            seen.append(line)
            if "waiting for a change" in line:
                break
        assert any("SyntaxError" in line for line in seen), "".join(seen)
        (project.root / "helper.py").write_text("VALUE = 2\n")
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0
    assert out.splitlines() == ["started with 1", "started with 2"], out


def test_run_watches_folders_of_modules_imported_later(project: Project) -> None:
    # The script's folder is watched from the start; lib/ only once the program has
    # imported a module from it.
    project.write(
        {
            "lib/helper.py": "def value():\n    return 'old'\n",
            "scripts/prog.py": """
                import os, queue, sys, threading, time, hotmod
                reports = queue.Queue()
                hotmod.watch(on_reload=reports.put)  # the running watcher, default paths
                sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
                import helper
                watcher = hotmod.watch()
                lib = os.path.realpath(os.path.dirname(helper.__file__))
                deadline = time.monotonic() + 10
                while lib not in watcher.paths:  # adopted once the imports settle
                    assert time.monotonic() < deadline, watcher.paths
                    threading.Event().wait(0.01)
                with open(helper.__file__, "w") as f:
                    f.write("def value():\\n    return 'new'\\n")
                report = reports.get(timeout=10)
                print(report.changed, helper.value())
            """,
        }
    )
    proc = hotmod_cmd(project, "run", "scripts/prog.py")
    assert proc.returncode == 0, explain(proc)
    assert proc.stdout.strip() == "['helper'] new"


def test_watch_manual_inside_hotmod_run_is_honoured(project: Project) -> None:
    import shutil

    shutil.copytree(
        Path(__file__).parent / "projects" / "manual_under_run", project.root, dirs_exist_ok=True
    )
    proc = hotmod_cmd(project, "run", "app.py")
    assert proc.returncode == 0, explain(proc)
    assert proc.stdout.splitlines() == [
        "mode: manual",
        "before apply: 1",
        "after apply: 2 True",
    ], explain(proc)
