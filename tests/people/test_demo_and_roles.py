"""Demo seed, roles from trusts.yaml and capability checks."""

from sqlalchemy import func, select

from modules.core.capabilities import CAPABILITIES
from modules.core.extensions import db
from modules.people.models import Academy, Role, RoleAssignment, Trust, User
from tests.conftest import demo_email

ROLE_KEYS = {"staff", "hr", "comms_lead", "headteacher", "ceo", "dpo", "trust_admin"}


def _counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (User, Academy, RoleAssignment))


def test_demo_seed_is_idempotent_and_keeps_passwords(app):
    before = _counts()
    staff = db.session.scalar(select(User).where(User.email == demo_email("staff", "tsat")))
    staff.password_hash = "$argon2id$changed-by-the-person"
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert "staff@tsat.demo.policypass.uk" in result.output
    db.session.expire_all()
    assert _counts() == before
    assert db.session.get(User, staff.id).password_hash == "$argon2id$changed-by-the-person"


def test_every_trust_has_every_role_held_and_staff_with_line_managers(app):
    for trust in db.session.scalars(select(Trust)):
        held = set(db.session.scalars(select(Role.key).join(RoleAssignment).where(Role.trust_id == trust.id)))
        assert ROLE_KEYS <= held, trust.slug
        staff = db.session.scalar(select(User).where(User.email == demo_email("staff", trust.slug)))
        assert staff.line_manager is not None and staff.academy is not None
        assert len(staff.line_manager.reports) >= 2


def test_roles_are_data_with_aliases_and_known_capabilities(app):
    tsat = db.session.scalar(select(Trust).where(Trust.slug == "tsat"))
    head = db.session.scalar(select(Role).where(Role.trust_id == tsat.id, Role.key == "headteacher"))
    assert head.label == "Principal" and "Headteacher" in head.aliases
    for role in db.session.scalars(select(Role)):
        assert set(role.capabilities) <= CAPABILITIES.keys()


def test_line_management_is_a_relation_that_grants_team_view(app):
    manager = db.session.scalar(select(User).where(User.email == demo_email("manager", "tkat")))
    staff = db.session.scalar(select(User).where(User.email == demo_email("staff", "tkat")))
    assert [a.role.key for a in manager.role_assignments] == ["staff"]
    assert manager.can("team:view") and not staff.can("team:view")


def test_academy_scoped_roles_apply_only_in_their_academy(app):
    head = db.session.scalar(select(User).where(User.email == demo_email("head", "tkat")))
    own, other = head.academy_id, db.session.scalar(select(User.academy_id).where(
        User.email == demo_email("head2", "tkat")))
    assert head.can("accounts:approve", academy_id=own)
    assert not head.can("accounts:approve", academy_id=other)
    assert head.academy_scope("tracking:view") == {own}
    hr = db.session.scalar(select(User).where(User.email == demo_email("hr", "tkat")))
    assert hr.academy_scope("tracking:view") is None
