"""A long-running program logging with loguru: one command per stdin line."""

import sys

from loguru import logger

from app import log, work  # (log adds the sink)


def main() -> None:
    print("ready", flush=True)
    for line in sys.stdin:
        try:
            if line.strip() == "work":
                work.work()
        except Exception as exc:
            print(f"error: {type(exc).__name__}: {exc}")
        print("<<done>>", flush=True)


logger.remove(0)  # (loguru's own stderr sink: the harness reads stderr for reloads)

if __name__ == "__main__":
    main()
