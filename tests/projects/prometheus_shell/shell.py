"""A long-running program exporting Prometheus metrics: one command per stdin line."""

import sys

from prometheus_client import generate_latest

from app import views


def main() -> None:
    print("ready", flush=True)
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        try:
            if command == "serve":
                print(views.serve(argument))
            elif command == "metrics":  # the series of the app's metrics, as scraped
                text = generate_latest().decode()
                print(" ".join(s for s in text.splitlines() if s.startswith(argument)))
        except Exception as exc:
            print(f"error: {type(exc).__name__}: {exc}")
        print("<<done>>", flush=True)


if __name__ == "__main__":
    main()
