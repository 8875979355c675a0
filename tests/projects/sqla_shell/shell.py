"""A long-running program over a SQLAlchemy database: one command per stdin line."""

import sys

from app import hooks, models, queries  # (hooks adds event listeners)
from app.db import SEEN, Base, Session, engine

Base.metadata.create_all(engine)
with Session() as seed:
    seed.add_all(
        [
            models.User(name="ann", addresses=[models.Address(email="ann@example.com")]),
            models.User(name="bob"),
        ]
    )
    seed.commit()

SESSION = Session()  # open for the whole run: its objects live across reloads
ANN = SESSION.get(models.User, 1)


def main() -> None:
    print("ready", flush=True)
    for line in sys.stdin:
        command = line.split()
        try:
            if command == ["greet"]:
                print(ANN.greet())
            elif command == ["names"]:
                print(" ".join(queries.names(SESSION)))
            elif command == ["labels"]:
                print(" ".join(queries.labels(SESSION)))
            elif command == ["same"]:
                print(type(ANN) is models.User and isinstance(ANN, models.User))
            elif command == ["seen"]:
                print(" ".join(SEEN))
                SEEN.clear()
            elif command[:1] == ["add"]:
                SESSION.add(models.User(name=command[1]))
                SESSION.commit()
                print("added")
            else:
                print(f"unknown {command}")
        except Exception as exc:
            print(f"error: {type(exc).__name__}: {exc}")
        print("<<done>>", flush=True)


if __name__ == "__main__":
    main()
