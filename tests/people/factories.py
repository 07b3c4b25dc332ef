"""People test factories: a role change (with its ledger entry), for the evidence-wide tamper and trigger tests."""

from sqlalchemy import select

from modules.core.extensions import db
from modules.people.models import User
from modules.people.services import grant_role, record_role_change, role_keys
from tests.conftest import demo_email


def make_evidence(now) -> None:
    """The E-ACT trust administrator makes the demo teacher a DPO: one role_change row, every column set."""
    admin = db.session.scalar(select(User).where(User.email == demo_email("admin", "e-act")))
    teacher = db.session.scalar(select(User).where(User.email == demo_email("teacher", "e-act")))
    before = role_keys(teacher)
    grant_role(teacher, "dpo")
    record_role_change(teacher, actor=admin, before=before, source="import", now=now)
