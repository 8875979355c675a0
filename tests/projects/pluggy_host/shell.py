"""A long-running host of pluggy plugins: one command per stdin line."""

import sys

from host import greeters, more, specs  # (greeters and more register their plugins)

MANAGER = specs.pm  # held since start


def main() -> None:
    print("ready", flush=True)
    for line in sys.stdin:
        command = line.strip()
        try:
            if command == "greet":
                print(MANAGER.hook.greet())
            elif command == "first":
                print(MANAGER.hook.pick())
            elif command == "farewell":
                print(MANAGER.hook.farewell())
            elif command == "plugins":
                print(len(MANAGER.get_plugins()))
        except Exception as exc:
            print(f"error: {type(exc).__name__}: {exc}")
        print("<<done>>", flush=True)


if __name__ == "__main__":
    main()
