"""Names and Role Provisioning Services: the trust administrator previews a course's roster of 30 members
from the platform (checked by the staff import's own rules), then applies it; the members' platform ids are
linked, and the Instructor becomes their line manager only where the trust says so."""

from sqlalchemy import func, select

from modules.core.extensions import db
from modules.lti.models import LtiAccount, LtiCourse
from modules.people.models import SecurityEvent, Trust, User
from tests.conftest import demo_email
from tests.helpers import csrf_token, sign_in
from tests.lti.conftest import launch_form, post_launch, register
from tests.lti.platform import INSTRUCTOR, LEARNER, Person


def _roster(platform) -> None:
    """28 new learners, the demo TSAT staff member (already here), one member with no email, and a teacher."""
    members = [{"user_id": f"m{n}", "name": f"Learner {n:02d}", "email": f"learner{n:02d}@tsat-school.example",
                "roles": [LEARNER], "status": "Active"} for n in range(1, 28)]
    members.append({"user_id": "m-sam", "name": "Sam Taylor", "email": demo_email("staff", "tsat"),
                    "roles": [LEARNER], "status": "Active"})
    members.append({"user_id": "m-noemail", "name": "No Email", "roles": [LEARNER], "status": "Active"})
    members.append({"user_id": "t-1", "name": "Terry Teacher", "email": "terry.teacher@tsat-school.example",
                    "roles": [INSTRUCTOR], "status": "Active"})
    assert len(members) == 30
    platform.members = members


def _course(platform, client) -> LtiCourse:
    register(platform)
    platform.people["t-1"] = Person("t-1", "Terry Teacher", "terry.teacher@tsat-school.example", [INSTRUCTOR])
    assert post_launch(client, launch_form(platform, client, "t-1")).status_code == 302
    db.session.rollback()
    return db.session.scalar(select(LtiCourse))


def _set_rule(slug: str, **lti) -> None:
    trust = db.session.scalar(select(Trust).where(Trust.slug == slug))
    trust.settings = {**(trust.settings or {}), "lti": lti}
    db.session.commit()


def test_admin_previews_then_applies_a_roster_of_30(platform, client, app):
    _set_rule("tsat", instructor_line_manages=True)
    course = _course(platform, client)
    _roster(platform)
    admin = app.test_client()
    sign_in(admin, demo_email("admin", "tsat"))
    listing = admin.get("/lti/platforms").get_data(as_text=True)
    assert "Staff induction 2026" in listing and f"/lti/courses/{course.id}/roster" in listing
    preview = admin.get(f"/lti/courses/{course.id}/roster")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert '<dd class="govuk-summary-list__value" id="count-members">30</dd>' in html
    assert '<dd class="govuk-summary-list__value" id="count-create">27</dd>' in html  # Terry launched already
    assert '<dd class="govuk-summary-list__value" id="count-errors">1</dd>' in html
    assert "This member has no email address" in html
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email.like("learner%"))) == 0
    applied = admin.post(f"/lti/courses/{course.id}/roster", data={
        "csrf_token": csrf_token(html), "fingerprint": _fingerprint(html)})
    assert applied.status_code == 302
    db.session.rollback()
    learners = list(db.session.scalars(select(User).where(User.email.like("learner%"))))
    terry = db.session.scalar(select(User).where(User.email == "terry.teacher@tsat-school.example"))
    assert len(learners) == 27 and all(u.trust.slug == "tsat" and u.role_labels == ["Staff"] for u in learners)
    assert all(u.line_manager_id == terry.id for u in learners)  # the trust's setting
    assert db.session.scalar(select(func.count()).select_from(LtiAccount)) == 29  # all but the no-email one
    assert db.session.scalar(select(SecurityEvent.target).where(SecurityEvent.kind == "lti-roster-sync")) == \
        "Staff induction 2026"
    again = admin.get(f"/lti/courses/{course.id}/roster").get_data(as_text=True)
    assert '<dd class="govuk-summary-list__value" id="count-create">0</dd>' in again


def _fingerprint(html: str) -> str:
    import re

    return re.search(r'name="fingerprint" type="hidden" value="([0-9a-f]{64})"', html).group(1)


def test_a_roster_that_changed_since_the_preview_applies_nothing(platform, client, app):
    course = _course(platform, client)
    _roster(platform)
    admin = app.test_client()
    sign_in(admin, demo_email("admin", "tsat"))
    html = admin.get(f"/lti/courses/{course.id}/roster").get_data(as_text=True)
    platform.members.append({"user_id": "late", "name": "Late Joiner", "email": "late@tsat-school.example",
                             "roles": [LEARNER]})
    response = admin.post(f"/lti/courses/{course.id}/roster", data={
        "csrf_token": csrf_token(html), "fingerprint": _fingerprint(html)})
    assert response.status_code == 200 and "changed since you checked" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email.like("learner%"))) == 0
    learners = [r for r in platform.members if "learner" in (r.get("email") or "")]
    assert learners  # and by default (no trust setting) nobody is anyone's line manager after applying
    html = response.get_data(as_text=True)
    admin.post(f"/lti/courses/{course.id}/roster", data={"csrf_token": csrf_token(html),
                                                         "fingerprint": _fingerprint(html)})
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User).where(
        User.email.like("learner%"), User.line_manager_id.is_not(None))) == 0


def test_a_platform_that_refuses_the_roster_is_a_clear_page(platform, client, app):
    course = _course(platform, client)
    platform.tweak["refuse_roster"] = True  # PolicyPass may no longer read rosters there
    admin = app.test_client()
    sign_in(admin, demo_email("admin", "tsat"))
    response = admin.get(f"/lti/courses/{course.id}/roster")
    assert response.status_code == 400 and "did not give the course" in response.get_data(as_text=True)
