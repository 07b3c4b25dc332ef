"""Read-only queries about people: who holds a role, the security event log."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import aliased, joinedload

from modules.core.extensions import db
from modules.people.models import Role, RoleAssignment, SecurityEvent, Trust, User

#: Events shown per page of the log.
EVENTS_PER_PAGE = 50


@dataclass(frozen=True)
class EventPage:
    """One page of the security event log, and how many events match in all."""

    events: list[SecurityEvent]
    total: int
    page: int
    pages: int


def recent_failures(user: User, kind: str, *, since: datetime) -> int:
    """How many failed events of this kind a person has had since the given time."""
    return db.session.scalar(select(func.count()).select_from(SecurityEvent).where(
        SecurityEvent.target_user_id == user.id, SecurityEvent.kind == kind, SecurityEvent.outcome == "failure",
        SecurityEvent.occurred_at >= since))


def sign_in_failures(email: str, user: User | None, *, since: datetime) -> int:
    """Refused sign-ins since the given time for one account: by the person, or by the address typed when no
    account has it (so an unknown address locks exactly as a real one does)."""
    who = SecurityEvent.target_user_id == user.id if user is not None else \
        func.lower(SecurityEvent.target) == email.strip().lower()
    return db.session.scalar(select(func.count()).select_from(SecurityEvent).where(
        SecurityEvent.kind == "sign-in", SecurityEvent.outcome == "failure", SecurityEvent.occurred_at >= since, who))


def trust_of_domain(email: str):
    """The trust of someone whose address has the same domain as this one (e.g. "@tkat.example"), if any."""
    domain = email.strip().lower().rpartition("@")[2]
    if not domain:
        return None
    holder = select(User.trust_id).where(User.email.like(f"%@{_escape_like(domain)}", escape="\\")).limit(1)
    return db.session.scalar(select(Trust).where(Trust.id == holder.scalar_subquery()))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def security_events(trust_id: int, *, kind: str | None = None, outcome: str | None = None,
                    person: str | None = None, since: datetime | None = None, until: datetime | None = None,
                    page: int = 1) -> EventPage:
    """The trust's security events, newest first, narrowed by kind, outcome, a person's name or email (as actor
    or target, or the address typed at a refused sign-in) and a time range [since, until)."""
    actor, target = aliased(User), aliased(User)
    query = (select(SecurityEvent).where(SecurityEvent.trust_id == trust_id)
             .outerjoin(actor, SecurityEvent.actor_id == actor.id)
             .outerjoin(target, SecurityEvent.target_user_id == target.id))
    if kind:
        query = query.where(SecurityEvent.kind == kind)
    if outcome == "success":
        query = query.where(SecurityEvent.outcome == "success")
    elif outcome == "failure":
        query = query.where(SecurityEvent.outcome != "success")
    if person:
        pattern = f"%{_escape_like(person.lower())}%"
        query = query.where(or_(*(func.lower(column).like(pattern, escape="\\") for column in (
            actor.name, actor.email, target.name, target.email, SecurityEvent.target))))
    if since is not None:
        query = query.where(SecurityEvent.occurred_at >= since)
    if until is not None:
        query = query.where(SecurityEvent.occurred_at < until)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max(1, -(-total // EVENTS_PER_PAGE))
    page = min(max(page, 1), pages)
    events = list(db.session.scalars(
        query.options(joinedload(SecurityEvent.actor), joinedload(SecurityEvent.target_user))
        .order_by(SecurityEvent.occurred_at.desc(), SecurityEvent.id.desc())
        .limit(EVENTS_PER_PAGE).offset((page - 1) * EVENTS_PER_PAGE)))
    return EventPage(events, total, page, pages)


def role_holders(trust_id: int, key: str, academy_id: int | None) -> list[User]:
    """Active people holding a trust's role: for an academy-scoped role, at that academy (None: held with no
    academy, the central team); for a trust-wide role, anywhere in the trust. Sorted by name."""
    role = db.session.scalar(select(Role).where(Role.trust_id == trust_id, Role.key == key))
    if role is None:
        return []
    query = select(User).join(RoleAssignment, RoleAssignment.user_id == User.id).where(
        RoleAssignment.role_id == role.id, User.trust_id == trust_id, User.active.is_(True))
    if role.scope == "academy":
        query = query.where(RoleAssignment.academy_id == academy_id) if academy_id is not None \
            else query.where(RoleAssignment.academy_id.is_(None))
    return list(db.session.scalars(query.order_by(User.name).distinct()))


def count_demo_accounts() -> int:
    """How many accounts `flask demo seed` made (0 when the schema predates the demo mark)."""
    try:
        return db.session.scalar(select(func.count()).select_from(User).where(User.demo.is_(True))) or 0
    except (OperationalError, ProgrammingError):  # not migrated yet: `flask db upgrade` must still run
        db.session.rollback()
        return 0


def sso_trusts() -> list[Trust]:
    """Trusts whose staff can sign in through their own identity provider (trust rule `sso`), by name."""
    return [trust for trust in db.session.scalars(select(Trust).order_by(Trust.name)) if trust.rules.sso]


def trust_by_slug(slug: str) -> Trust | None:
    """The trust with this slug, if any."""
    return db.session.scalar(select(Trust).where(Trust.slug == slug))


def role_labels(trust_id: int) -> dict[str, str]:
    """The trust's role labels by key (e.g. {"headteacher": "Principal"})."""
    return {role.key: role.label for role in db.session.scalars(select(Role).where(Role.trust_id == trust_id))}
