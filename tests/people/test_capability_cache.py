"""Capabilities are worked out once per loaded state of a person's roles (User._grants) and the navigation once per
request, yet a role change still counts at once: within the session that makes it, and on the person's very next
request. Trust rules are parsed once per trust and mapping, and an edited mapping is read at once."""

from sqlalchemy import select

from modules.core.extensions import db
from modules.people.models import Role, RoleAssignment, Trust, User, forget_trust_rules
from tests.conftest import demo_email
from tests.helpers import csrf_token, sign_in


def _user(local: str, slug: str = "tasmat") -> User:
    return db.session.scalar(select(User).where(User.email == demo_email(local, slug)))


def _role(user: User, key: str) -> Role:
    return db.session.scalar(select(Role).where(Role.trust_id == user.trust_id, Role.key == key))


def test_adding_and_removing_a_role_counts_at_once_in_the_same_session(app):
    teacher = _user("teacher")
    assert not teacher.can("tracking:view") and "tracking:view" not in teacher.capabilities()
    assignment = RoleAssignment(role=_role(teacher, "hr"))
    teacher.role_assignments.append(assignment)
    assert teacher.can("tracking:view") and "tracking:view" in teacher.capabilities()
    db.session.flush()
    assert teacher.can("tracking:view")
    teacher.role_assignments.remove(assignment)
    assert not teacher.can("tracking:view")
    db.session.commit()
    assert not _user("teacher").can("tracking:view")


def test_an_academy_role_moved_to_another_academy_counts_at_once(app):
    teacher = _user("teacher")
    academies = [a.id for a in db.session.get(Trust, teacher.trust_id).academies]
    assignment = RoleAssignment(role=_role(teacher, "hr"), academy_id=academies[0])
    teacher.role_assignments.append(assignment)
    assert teacher.can("tracking:view", academies[0]) and not teacher.can("tracking:view", academies[1])
    assignment.academy_id = academies[1]
    assert not teacher.can("tracking:view", academies[0]) and teacher.can("tracking:view", academies[1])


def test_a_role_losing_a_capability_counts_at_once(app):
    hr = _user("hr")
    role = _role(hr, "hr")
    assert hr.can("tracking:view")
    role.capabilities = [c for c in role.capabilities if c != "tracking:view"]
    assert not hr.can("tracking:view")


def test_becoming_a_line_manager_counts_at_once(app):
    teacher, other = _user("teacher"), _user("staff")
    if teacher.reports:
        for report in list(teacher.reports):
            report.line_manager = None
    assert not teacher.can("team:view")
    other.line_manager = teacher
    assert teacher.can("team:view") and "team:view" in teacher.capabilities()
    other.line_manager = None
    assert not teacher.can("team:view")


def test_a_line_manager_found_by_query_without_loading_the_reports(app):
    teacher, other = _user("teacher"), _user("staff")
    other.line_manager_id = teacher.id
    db.session.commit()
    teacher = _user("teacher")
    assert teacher.can("team:view") and "reports" not in teacher.__dict__


def _post_roles(client, user_id: int, roles: list[str]):
    page = client.get(f"/staff/people/{user_id}/roles")
    assert page.status_code == 200
    return client.post(f"/staff/people/{user_id}/roles",
                       data={"roles": roles, "csrf_token": csrf_token(page.get_data(as_text=True))})


def test_a_role_given_and_taken_away_on_the_roles_page_counts_on_the_next_request(app):
    teacher_id = _user("teacher").id
    keys = sorted({a.role.key for a in _user("teacher").role_assignments})
    db.session.rollback()
    teacher, hr = app.test_client(), app.test_client()
    sign_in(teacher, demo_email("teacher", "tasmat"))
    sign_in(hr, demo_email("hr", "tasmat"))
    home = teacher.get("/").get_data(as_text=True)
    assert teacher.get("/tracking").status_code == 403 and "Staff training" not in home

    assert _post_roles(hr, teacher_id, [*keys, "hr"]).status_code == 302
    assert teacher.get("/tracking").status_code == 200
    assert "Staff training" in teacher.get("/").get_data(as_text=True)

    assert _post_roles(hr, teacher_id, keys).status_code == 302
    assert teacher.get("/tracking").status_code == 403
    assert "Staff training" not in teacher.get("/").get_data(as_text=True)


def test_edited_trust_rules_are_read_at_once_and_forgetting_them_is_harmless(app):
    trust = db.session.scalar(select(Trust).where(Trust.slug == "tasmat"))
    first = trust.rules
    assert trust.rules is first  # parsed once
    before = first.reauth_minutes
    trust.settings = {**(trust.settings or {}), "reauth_minutes": before + 7}
    assert trust.rules.reauth_minutes == before + 7  # no call needed: the mapping changed
    db.session.commit()
    forget_trust_rules(trust.id)
    assert db.session.scalar(select(Trust).where(Trust.slug == "tasmat")).rules.reauth_minutes == before + 7
    forget_trust_rules()
