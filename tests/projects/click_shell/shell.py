"""A long-running shell holding a click group and a Typer app: one command line per stdin line."""

import shlex
import sys

import typer
from tool import extra
from tool.cli import cli
from tool.tapp import app

GROUP = cli  # held since start: the objects the shell runs are never looked up again
TYPER = app
BUILT = typer.main.get_command(app)  # the click group Typer builds, built once


def main() -> None:
    print("ready", flush=True)
    for line in sys.stdin:
        argv = shlex.split(line)
        try:
            if argv[:1] == ["built"]:
                BUILT.main(argv[1:], standalone_mode=False)
            elif argv[:1] == ["typer"]:
                typer.main.get_command(TYPER).main(argv[1:], standalone_mode=False)
            else:
                GROUP.main(argv, standalone_mode=False)
        except Exception as exc:
            print(f"error: {type(exc).__name__}: {exc}")
        print("<<done>>", flush=True)


if __name__ == "__main__":
    main()
