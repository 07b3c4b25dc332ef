"""Changing a person's roles on their roles page and with `flask people set-roles`: the same check as the staff
import (people.services.change_roles → role_refusal / can_manage), each change ledgered; a refusal changes nothing."""

from sqlalchemy import func, select

from modules.core.extensions import db
from modules.evidence.ledger import entry_for, verify_ledger
from modules.people.models import RoleChange, User
from modules.people.services import role_keys
from tests.conftest import demo_email
from tests.helpers import csrf_token, sign_in


def _user(local: str, slug: str = "tasmat") -> User:
    return db.session.scalar(select(User).where(User.email == demo_email(local, slug)))


def _keys(user: User) -> list[str]:
    return sorted({a.role.key for a in user.role_assignments})


def _changes() -> int:
    return db.session.scalar(select(func.count()).select_from(RoleChange))


def _post_roles(client, user_id: int, roles: list[str]):
    page = client.get(f"/staff/people/{user_id}/roles")
    assert page.status_code == 200
    return client.post(f"/staff/people/{user_id}/roles",
                       data={"roles": roles, "csrf_token": csrf_token(page.get_data(as_text=True))})


def test_hr_gives_a_role_it_holds_on_the_page_ledgered(client, app):
    teacher = _user("teacher")
    sign_in(client, demo_email("hr", "tasmat"))
    response = _post_roles(client, teacher.id, [*_keys(teacher), "hr"])
    assert response.status_code == 302
    db.session.rollback()
    assert "hr" in {a.role.key for a in _user("teacher").role_assignments}
    change = db.session.scalar(select(RoleChange))
    assert (change.source, change.actor_id) == ("ui", _user("hr").id)
    assert "hr" in change.after.split() and "hr" not in change.before.split()
    assert entry_for("role_change", change.id) is not None
    assert verify_ledger().ok


def test_hr_cannot_give_the_headteacher_role_on_the_page(client):
    teacher = _user("teacher")
    before = role_keys(teacher)
    sign_in(client, demo_email("hr", "tasmat"))
    response = _post_roles(client, teacher.id, [*_keys(teacher), "headteacher"])
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "which you cannot give" in text and "approve requests to run official social media accounts" in text
    db.session.rollback()
    assert role_keys(_user("teacher")) == before and _changes() == 0


def test_hr_cannot_change_its_own_roles_nor_an_administrators(client):
    hr = _user("hr")
    sign_in(client, demo_email("hr", "tasmat"))
    response = _post_roles(client, hr.id, ["hr", "headteacher"])
    assert response.status_code == 400 and "nobody can change their own roles" in response.get_data(as_text=True)
    admin = _user("admin")
    response = _post_roles(client, admin.id, ["staff"])
    assert response.status_code == 400 and "they hold a role you cannot give" in response.get_data(as_text=True)
    assert _changes() == 0


def test_a_role_the_trust_lacks_is_a_clear_400(client):
    sign_in(client, demo_email("hr", "tasmat"))
    response = _post_roles(client, _user("teacher").id, ["emperor"])
    assert response.status_code == 400 and _changes() == 0


def test_the_command_line_uses_the_same_check(app):
    runner = app.test_cli_runner()
    hr, teacher = demo_email("hr", "tasmat"), demo_email("teacher", "tasmat")
    refused = runner.invoke(args=["people", "set-roles", hr, "hr", "headteacher", "--by", hr])
    assert refused.exit_code == 2 and "nobody can change their own roles" in refused.output
    refused = runner.invoke(args=["people", "set-roles", teacher, "staff", "headteacher", "--by", hr])
    assert refused.exit_code == 2 and "which you cannot give" in refused.output
    assert _changes() == 0
    # The trust administrator's role lists headteacher under assignable_roles.
    done = runner.invoke(args=["people", "set-roles", teacher, "staff", "headteacher", "--by",
                               demo_email("admin", "tasmat")])
    assert done.exit_code == 0, done.output
    change = db.session.scalar(select(RoleChange))
    assert change.source == "cli" and "headteacher" in change.after
    assert verify_ledger().ok
