"""Factories for tracking tests: demo people, acknowledgements made the real way, assignments."""

from datetime import datetime

from sqlalchemy import select

from modules.core.extensions import db
from modules.people.models import Trust, User
from modules.tracking.models import Assignment
from tests.conftest import NOW, demo_email


def demo_user(local: str, slug: str = "tkat") -> User:
    """A demo person by local part and trust slug."""
    return db.session.scalar(select(User).where(User.email == demo_email(local, slug)))


def trust(slug: str = "tkat") -> Trust:
    """A trust by slug."""
    return db.session.scalar(select(Trust).where(Trust.slug == slug))


def acknowledge(user: User, now: datetime = NOW):
    """The person passes and acknowledges their current version (the certificate and signals follow)."""
    from tests.attestation.factories import acknowledge as ack

    return ack(user, now)


def current(user: User) -> Assignment | None:
    """The person's current assignment."""
    return db.session.scalar(select(Assignment).where(Assignment.user_id == user.id,
                                                      Assignment.is_current.is_(True)))


def history(user: User) -> list[Assignment]:
    """All the person's assignments, oldest first."""
    return list(db.session.scalars(select(Assignment).where(Assignment.user_id == user.id)
                                   .order_by(Assignment.id)))
