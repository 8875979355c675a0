from sqlalchemy import select

from .models import Address, User


def names(session) -> list[str]:
    return [user.name for user in session.scalars(select(User).order_by(User.name))]


def labels(session) -> list[str]:
    return [address.label() for address in session.scalars(select(Address).order_by(Address.id))]
