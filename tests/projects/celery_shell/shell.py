"""A long-running program sending Celery tasks: one command per stdin line."""

import sys

from app import tasks  # (it makes the tasks)
from app.core import celery_app


def main() -> None:
    celery_app.finalize()  # (as sending a first task does)
    print("ready", flush=True)
    for line in sys.stdin:
        try:
            if line.strip() == "tasks":  # each task as the app knows it, applied here
                names = sorted(n for n in celery_app.tasks if not n.startswith("celery."))
                done = [celery_app.tasks[n].apply(args=_args(n)).get() for n in names]
                print(" ".join(f"{n}={result}" for n, result in zip(names, done, strict=True)))
            elif line.strip() == "retries":
                print(celery_app.tasks["app.tasks.add"].max_retries, tasks.add.max_retries)
        except Exception as exc:
            print(f"error: {type(exc).__name__}: {exc}")
        print("<<done>>", flush=True)


def _args(name: str) -> tuple[int, ...]:
    return (2, 3) if name == "app.tasks.add" else ()


if __name__ == "__main__":
    main()
