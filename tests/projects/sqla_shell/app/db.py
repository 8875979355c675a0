from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, sessionmaker


class Base(DeclarativeBase):
    pass


engine = create_engine("sqlite://")
Session = sessionmaker(engine)
SEEN: list[str] = []  # what the event listeners saw (app.hooks)
