"""Who may give which role: HR cannot make itself (or anyone) an approver; role changes are ledgered;
a full import never marks people HR cannot manage as leavers; odd cells and dates get clear row errors."""

import pytest
from sqlalchemy import select

from modules.core.extensions import db
from modules.people import importer
from modules.people.models import Role, RoleChange, User
from modules.people.services import may_assign, role_keys
from tests.conftest import demo_email
from tests.people.test_import import _apply_fields, _upload, make_csv, person


def _user(local: str, slug: str = "tkat") -> User:
    return db.session.scalar(select(User).where(User.email == demo_email(local, slug)))


def _plan(data: bytes, actor: str = "hr", slug: str = "tkat", full: bool = False):
    actor_user = _user(actor, slug)
    return importer.plan_import(actor_user.trust, data, full=full, actor=actor_user)


def _own_row(local: str, slug: str, roles: str) -> list[str]:
    user = _user(local, slug)
    return [user.name, user.email, user.job_title, user.department, user.academy_name if user.academy else "",
            "", "", roles]


@pytest.mark.parametrize("role", ["headteacher", "ceo", "dpo", "comms_lead", "trust_admin"])
def test_hr_cannot_give_a_role_carrying_a_capability_hr_lacks(app, role):
    plan = _plan(make_csv([person(1, roles=role)]))
    (row,) = plan.rows
    assert not row.ok
    assert any("which you cannot give" in e and "you do not have" in e for e in row.errors), row.errors


@pytest.mark.parametrize("slug", ["tasmat", "tkat", "agora"])
def test_hr_cannot_make_itself_headteacher_and_nothing_changes(app, client, login, slug):
    """The attack from the issue: HR imports its own row with the headteacher role."""
    before = role_keys(_user("hr", slug))
    plan = _plan(make_csv([_own_row("hr", slug, "headteacher")]), slug=slug)
    assert not plan.rows[0].ok
    login("hr", slug)
    response = _upload(client, make_csv([_own_row("hr", slug, "headteacher")]))
    html = response.get_data(as_text=True)
    assert "Row 2" in html and "Headteacher" in html and "which you cannot give" in html
    client.post("/staff/import/apply", data=_apply_fields(html))
    db.session.rollback()
    assert role_keys(_user("hr", slug)) == before
    assert db.session.scalar(select(RoleChange)) is None


def test_nobody_changes_their_own_roles(app):
    """Even a trust administrator, who may give the headteacher role to others, cannot give it to itself."""
    plan = _plan(make_csv([_own_row("admin", "tkat", "hr")]), actor="admin")
    assert any("your own roles" in e for e in plan.rows[0].errors)
    plan = _plan(make_csv([person(1, roles="headteacher")]), actor="admin")
    assert plan.rows[0].ok, plan.rows[0].errors


def test_the_rule_is_data_per_role(app):
    """Derived from capabilities, plus the roles a role lists under assignable_roles in trusts.yaml."""
    hr, admin = _user("hr"), _user("admin")
    roles = {r.key: r for r in db.session.scalars(select(Role).where(Role.trust_id == hr.trust_id))}
    assert may_assign(hr, roles["staff"]) and may_assign(hr, roles["hr"])
    assert not may_assign(hr, roles["headteacher"]) and not may_assign(hr, roles["trust_admin"])
    assert may_assign(admin, roles["headteacher"]) and may_assign(admin, roles["dpo"])


def test_a_role_change_is_a_ledgered_event_with_actor_before_and_after(app, client, login):
    from modules.evidence.ledger import entry_for, verify_ledger

    staff = _user("staff")
    before = role_keys(staff)
    login("admin", "tkat")
    row = [staff.name, staff.email, staff.job_title, staff.department, "North Park Academy",
           demo_email("manager", "tkat"), "", "staff;headteacher"]
    html = _upload(client, make_csv([row])).get_data(as_text=True)
    assert client.post("/staff/import/apply", data=_apply_fields(html)).status_code == 302
    db.session.rollback()
    change = db.session.scalar(select(RoleChange).where(RoleChange.user_id == staff.id))
    assert change.actor_id == _user("admin").id and change.source == "import"
    assert change.before.split() == before and "headteacher@north-park" in change.after.split()
    entry = entry_for("role_change", change.id)
    assert entry is not None and entry.kind == "role_changed"
    assert verify_ledger().ok


def test_hr_cannot_change_the_roles_of_someone_it_cannot_manage(app):
    """Moving the headteacher to another academy would drop their academy-scoped role: refused for HR."""
    head = _user("head")
    row = [head.name, head.email, head.job_title, head.department, "Riverside Primary Academy", "", "", ""]
    plan = _plan(make_csv([row]))
    assert any("whose roles you cannot change" in e for e in plan.rows[0].errors), plan.rows[0].errors
    row[4] = "North Park Academy"
    row[2] = "Executive Headteacher"
    plan = _plan(make_csv([row]))
    assert plan.rows[0].ok, plan.rows[0].errors  # other details may still be kept up to date


def test_a_full_import_leaves_people_hr_cannot_manage_alone(app, client, login):
    """Omitting the trust administrator, CEO, headteacher, DPO and comms lead does not make them leavers."""
    kept = [_user(local) for local in ("hr", "staff", "teacher", "office", "staff2", "manager")]
    rows = [_own_row(u.email.split("@")[0], "tkat", "") for u in kept]
    plan = _plan(make_csv(rows), full=True)
    leavers = {u.email.split("@")[0] for u in plan.leavers}
    left_alone = {u.email.split("@")[0] for u in plan.left_alone}
    assert leavers == set()
    assert {"admin", "ceo", "head", "head2", "dpo", "comms"} <= left_alone
    login("hr", "tkat")
    html = _upload(client, make_csv(rows), full=True).get_data(as_text=True)
    assert "Not in the file, left alone" in html and _user("ceo").name in html
    client.post("/staff/import/apply", data={**_apply_fields(html), "confirm_leavers": "y"})
    db.session.rollback()
    assert all(_user(local).active for local in ("admin", "ceo", "head", "dpo", "comms"))


def test_a_returning_approver_is_not_reactivated_by_hr(app, now):
    ceo = _user("ceo")
    ceo.active = False
    db.session.commit()
    plan = _plan(make_csv([_own_row("ceo", "tkat", "")]))
    assert not plan.rows[0].ok


@pytest.mark.parametrize("cell, field", [("Ann\nOther", "name"), ("Tea\rcher", "job_title"),
                                         ("Maths\x1b[31m", "department"), ("Ann\u2028Other", "name")])
def test_control_characters_in_a_cell_are_a_row_error(app, cell, field):
    changes = {"name": "name", "job_title": "job", "department": "dept"}
    plan = _plan(make_csv([person(1, **{changes[field]: cell})]))
    assert any("line break" in e for e in plan.rows[0].errors), plan.rows[0].errors


@pytest.mark.parametrize("start", ["31/12/9999", "01/01/0001", "1/1/1800", "2999-01-01"])
def test_an_absurd_start_date_is_a_row_error_and_apply_never_fails(app, client, login, start):
    plan = _plan(make_csv([person(1, start=start)]))
    assert any("start date" in e for e in plan.rows[0].errors), plan.rows[0].errors
    login("hr", "tkat")
    html = _upload(client, make_csv([person(1, start=start), person(2)])).get_data(as_text=True)
    response = client.post("/staff/import/apply", data=_apply_fields(html))
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.scalar(select(User).where(User.email == "new2@school.example")) is not None
    assert db.session.scalar(select(User).where(User.email == "new1@school.example")) is None


def test_an_email_in_another_trust_looks_like_any_new_email(app, client, login):
    """The preview must not reveal that an address is used in another trust."""
    elsewhere = demo_email("staff", "e-act")
    plan = _plan(make_csv([person(1, email=elsewhere), person(2)]))
    foreign, new = plan.rows
    assert foreign.ok and foreign.action == new.action == "create"
    login("hr", "tkat")
    html = _upload(client, make_csv([person(1, email=elsewhere), person(2)])).get_data(as_text=True)
    assert "another trust" not in html
    response = client.post("/staff/import/apply", data=_apply_fields(html))
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.scalar(select(User).where(User.email == "new2@school.example")) is not None
    other = db.session.scalar(select(User).where(User.email == elsewhere))
    assert other.trust.slug == "e-act" and other.name == "Sam Taylor"
