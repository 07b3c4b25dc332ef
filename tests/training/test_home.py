"""Issue 17 point 3: the staff home page says where the person stands (due by when, or overdue since when;
modules read; the quiz; the acknowledgement; the certificate and its expiry), offers no "Take the quiz" after
completion, and after a new version says what changed, with the changed clauses marked in the modules."""

import re
from datetime import timedelta

from sqlalchemy import select

from modules.core.extensions import db
from modules.core.timeutil import format_date
from modules.people.models import Trust
from modules.policies import queries as policy_queries
from modules.policies.services import london_date, publish_draft
from modules.tracking.models import Assignment
from modules.tracking.services import ensure_assignments
from tests.certificates.factories import demo_user, issue
from tests.conftest import demo_email
from tests.helpers import sign_in


def _text(html: str, element_id: str | None = None) -> str:
    if element_id is not None:
        html = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:dd|div|dl)>', html, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _home(app, local: str, slug: str) -> str:
    client = app.test_client()
    sign_in(client, demo_email(local, slug))
    return client.get("/").get_data(as_text=True), client


def _assign(slug: str, now) -> Assignment:
    trust = db.session.scalar(select(Trust).where(Trust.slug == slug))
    ensure_assignments(trust, now=now)
    db.session.commit()
    return db.session.scalar(select(Assignment).where(Assignment.user_id == demo_user("staff", slug).id,
                                                      Assignment.is_current.is_(True)))


def test_a_new_person_sees_when_it_is_due_and_what_to_do_next(app, now):
    assignment = _assign("tkat", now)
    due = assignment.due_on
    html, _ = _home(app, "staff", "tkat")
    assert f"Due by {format_date(due)}" in _text(html, "standing-status")
    assert "Next: read" in _text(html, "next-step")
    assert "Opens when you have read every module" in _text(html, "standing-quiz")
    assert "You get one when you have acknowledged the policy" in _text(html, "standing-certificate")


def test_an_overdue_person_sees_since_when(app, now):
    _assign("tkat", now - timedelta(days=90))
    html, _ = _home(app, "staff", "tkat")
    assignment = db.session.scalar(select(Assignment).where(Assignment.user_id == demo_user("staff", "tkat").id,
                                                            Assignment.is_current.is_(True)))
    assert f"Overdue since {format_date(assignment.due_on + timedelta(days=1))}" in _text(html, "standing-status")


def test_after_completing_there_is_no_take_the_quiz_and_the_certificate_shows_its_expiry(app, now):
    cert = issue("staff", "tkat", now - timedelta(days=2))
    html, _ = _home(app, "staff", "tkat")
    text = _text(html)
    assert "Take the quiz" not in text and "You have completed your training" in text
    assert f"Valid until {format_date(cert.expires_on)}" in _text(html, "standing-certificate")
    assert "Complete" in _text(html, "standing-status")


def test_after_a_new_version_the_home_says_what_changed_and_the_module_marks_the_clauses(app, now):
    trust = db.session.scalar(select(Trust).where(Trust.slug == "e-act"))
    demo, seed = sorted(policy_queries.versions_of(trust.id), key=lambda v: v.number)
    issue("staff", "e-act", now - timedelta(days=30))
    published = now - timedelta(days=1)
    publish_draft(seed, effective_on=london_date(published), now=published)
    db.session.commit()
    html, client = _home(app, "staff", "e-act")
    changed = _text(re.search(r'id="what-changed".*?</ul>', html, re.S).group(0))
    assert "You signed version 1. Version 2 changed 1 module." in changed
    module = next(s for s in seed.sections if s.number == "5")
    assert f'href="/modules/{module.id}"' in re.search(r'id="what-changed".*?</ul>', html, re.S).group(0)
    assert "Changed: read again" in _text(html, f"module-{module.id}-status")
    page = client.get(f"/modules/{module.id}").get_data(as_text=True)
    changes = policy_queries.changes_since(seed)
    assert changes.refs and "This module changed in version 2" in page
    for ref in changes.refs:
        anchor = "clause-" + ref
        assert re.search(rf'class="pp-clause [\w-]+ pp-clause--changed" id="{re.escape(anchor)}"', page), ref
    assert page.count("Changed in version 2</strong>") == len(changes.refs)
    # A module that did not change marks nothing.
    other = next(s for s in seed.sections if s.number == "1")
    assert "pp-clause--changed" not in client.get(f"/modules/{other.id}").get_data(as_text=True)
