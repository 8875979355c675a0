"""Event listeners, added at import."""

from sqlalchemy import event

from app.db import SEEN
from app.models import User


@event.listens_for(User, "before_insert")
def stamp(mapper, connection, target):
    SEEN.append(f"v1 {target.name}")
