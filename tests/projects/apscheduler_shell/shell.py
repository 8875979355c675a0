"""A long-running program with a background scheduler: one command per stdin line."""

import sys

from app import jobs  # (it adds the jobs)
from app.core import scheduler


def main() -> None:
    scheduler.start()
    print("ready", flush=True)
    for line in sys.stdin:
        try:
            if line.strip() == "jobs":  # each job's function, as the scheduler would run it
                print(" ".join(sorted(f"{job.name}={job.func()}" for job in scheduler.get_jobs())))
        except Exception as exc:
            print(f"error: {type(exc).__name__}: {exc}")
        print("<<done>>", flush=True)
    scheduler.shutdown(wait=False)


if __name__ == "__main__":
    main()
