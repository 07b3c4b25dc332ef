"""The demo cast: academies and people for every trust (`flask demo seed` only). Idempotent: it only fills gaps."""

from datetime import date, datetime

from sqlalchemy import select

from modules.core.extensions import db
from modules.people.models import Trust, User
from modules.people.passwords import hash_password
from modules.people.services import ensure_academy, grant_role, upsert_user

DEMO_PASSWORD = "policypass-demo"
DEMO_DOMAIN = "demo.policypass.uk"
#: The demo cast started on this date, and the demo behaves as if PolicyPass had been in use since.
DEMO_START = date(2026, 9, 1)

#: (local part, name, job title, department, role keys, academy index or None for central, manager local part)
PEOPLE = [
    ("hr", "Harriet Hughes", "HR Manager", "Human Resources", ["hr"], None, None),
    ("admin", "Adrian Ashworth", "Trust Systems Administrator", "IT", ["trust_admin"], None, None),
    ("ceo", "Caroline Ellis", "Chief Executive Officer", "Executive", ["ceo"], None, None),
    ("comms", "Colin Mensah", "Communications Lead", "Communications", ["comms_lead"], None, "ceo"),
    ("dpo", "Deepa Patel", "Data Protection Officer", "Governance", ["dpo"], None, "ceo"),
    ("head", "Helen Osei", "Headteacher", "Leadership", ["headteacher"], 0, "ceo"),
    ("manager", "Martin Lowe", "Head of Year 9", "Pastoral", [], 0, "head"),
    ("staff", "Sam Taylor", "Teaching Assistant", "Learning Support", [], 0, "manager"),
    ("teacher", "Priya Shah", "Teacher of English", "English", [], 0, "manager"),
    ("office", "Tom Reid", "Office Manager", "Administration", [], 0, "head"),
    ("head2", "Grace Boateng", "Headteacher", "Leadership", ["headteacher"], 1, "ceo"),
    ("staff2", "Jack Wilson", "Teacher of Science", "Science", [], 1, "head2"),
]

ACADEMIES = [("north-park", "North Park Academy"), ("riverside", "Riverside Primary Academy")]


def demo_email(local: str, trust: Trust) -> str:
    """The demo sign-in for a person of a trust, e.g. staff@tkat.demo.policypass.uk."""
    return f"{local}@{trust.slug}.{DEMO_DOMAIN}"


def seed_trust(trust: Trust, *, now: datetime, password_hash: str) -> list[tuple[str, str]]:
    """Create the trust's demo academies and people where missing; return (email, description) pairs."""
    academies = [ensure_academy(trust, slug, name) for slug, name in ACADEMIES]
    people: dict[str, User] = {}
    logins = []
    for local, name, title, department, roles, academy_index, manager in PEOPLE:
        email = demo_email(local, trust)
        existing = db.session.scalar(select(User).where(User.email == email))
        academy = academies[academy_index] if academy_index is not None else None
        user = upsert_user(trust, email=email, name=name, job_title=title, department=department, academy=academy,
                           line_manager=people.get(manager), start_date=DEMO_START, now=now,
                           password_hash=None if existing and existing.password_hash else password_hash)
        user.demo = True  # never signs in under production configuration
        grant_role(user, "staff", academy)
        for role in roles:
            grant_role(user, role, academy)
        people[local] = user
        logins.append((email, f"{title}, {user.academy_name}"))
    return logins


def seed_all(*, now: datetime) -> dict[str, list[tuple[str, str]]]:
    """Seed every trust in the database; returns the demo logins per trust slug."""
    password_hash = hash_password(DEMO_PASSWORD)
    return {trust.short_name: seed_trust(trust, now=now, password_hash=password_hash)
            for trust in db.session.scalars(select(Trust).where(Trust.platform.is_(False)).order_by(Trust.id))}
