"""Issue 17 point 4: HR sees a preview of every email HR sends or the daily run sends for them, written by the
same code that sends it, from the trust's rules (escalation thresholds, role labels, reminder timing)."""

from datetime import date

from modules.core.extensions import db
from modules.people.models import Role
from modules.policies.queries import published_version
from modules.tracking.mail import previews, reminder
from tests.tracking.factories import trust


def test_every_email_is_previewed_from_the_trust_rules(app):
    tkat = trust("tkat")
    labels = {role.key: role.label for role in db.session.query(Role).filter_by(trust_id=tkat.id)}
    today = date(2026, 11, 20)
    with app.test_request_context():
        found = {p.key: p for p in previews(tkat, academy=None, today=today, max_age_hours=168, role_labels=labels,
                                            version=published_version(tkat.id))}
        assert list(found)[:4] == ["invitation", "due-soon", "overdue", "manager"]
        steps = tkat.rules.escalation
        assert [k for k in found if k.startswith("escalation-")] == [f"escalation-{s.key}" for s in steps]
        # The same words the daily run writes (the sending functions), for the example person.
        assert found["overdue"].subject == reminder("overdue", _example(tkat), due_on=date(2026, 11, 10),
                                                    today=today, training="Induction training")[0]
        line = found["escalation-line_manager"]
        assert line.subject == "Overdue training: Alex Example, 14 days overdue"
        assert "after 14 days (a trust setting)" in line.body and "[a link to the person's training history]" in line.body
        head = found[f"escalation-{steps[1].key}"]
        assert f"the {labels[steps[1].role]}" in head.body and "28 days overdue" in head.subject
        assert "[a new one-time link, made when you send this]" in found["invitation"].body
        assert "7 days before the due date" in found["due-soon"].when
        # TKAT's policy was due for review on 31 December 2025: the review email says so, never "-324 days from today".
        review = found["policy-review"]
        assert review.subject.endswith("review was due by 31 December 2025")
        assert "past its review date" in review.body and "324 days ago" in review.body and "-" not in review.body.split(
            "ago")[0].split("December 2025")[-1]


def _example(tkat):
    from modules.people.models import User

    return User(id=0, trust=tkat, name="Alex Example", email="alex.example@example.org", job_title="Teacher")


def test_hr_sees_the_previews_and_staff_do_not(app, client, login):
    login("hr", "tkat")
    html = client.get("/tracking/emails").get_data(as_text=True)
    for title in ("Set-password invitation", "Reminder: due soon", "Reminder: overdue",
                  "Escalation to their line manager", "Copy of an overdue reminder to the line manager"):
        assert title in html
    assert "Dear Alex Example" in html and "Dear Morgan Example" in html
    other = app.test_client()
    login("staff", "tkat", other)
    assert other.get("/tracking/emails").status_code == 403
