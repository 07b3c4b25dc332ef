"""A certificate a later version will supersede is still valid, and says so the same way everywhere:
"Valid — superseded on <date> unless <name> completes version 2" on /verify, My certificates, HR's certificate
list, the expiring list (whose counts include it) and the register (tests/policies/test_versions_consequences.py).
"""

from datetime import timedelta

from modules.certificates.queries import standing
from modules.certificates.status import VALID, is_expiring, last_valid_day, london_day, supersession_due
from modules.core.extensions import db
from modules.core.timeutil import format_date
from tests.certificates.factories import issue, publish_next_version
from tests.conftest import demo_email
from tests.helpers import sign_in


def _superseding(now):
    """Sam's TKAT certificate from ten days ago; version 2 took effect yesterday (grace: 30 days)."""
    cert = issue("staff", "tkat", now - timedelta(days=10))
    published = now - timedelta(days=1)
    version = publish_next_version(cert.trust_id, published)
    db.session.expire_all()
    return db.session.get(type(cert), cert.id), version, published + timedelta(days=30)


def _text(html: str) -> str:
    import re

    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_standing_names_the_date_and_the_version(app, now):
    cert, version, due = _superseding(now)
    row = standing(cert, now)
    assert row.status == VALID and row.superseded_at == due and supersession_due(cert, now) == due
    assert row.superseded_by.id == version.id and not row.holder_completed_it
    assert last_valid_day(cert, now) == london_day(due) < cert.expires_on
    assert is_expiring(cert, now, 30) and not is_expiring(cert, now, 28)
    # Once it has been superseded there is nothing due any more; it reads superseded.
    assert supersession_due(cert, due) is None and standing(cert, due).status == "superseded"
    # Completing version 2 is noticed: the old one is still superseded on the date, but nothing is asked.
    issue("staff", "tkat", now, version=version)
    assert standing(db.session.get(type(cert), cert.id), now + timedelta(seconds=1)).holder_completed_it


def test_every_page_says_superseded_on_the_date_unless_they_complete_version_2(app, now):
    cert, version, due = _superseding(now)
    wording = f"Valid — superseded on {format_date(due)} unless Sam Taylor completes {version.label}"
    assert wording in _text(app.test_client().get(f"/verify/{cert.code}").get_data(as_text=True))

    staff = app.test_client()
    sign_in(staff, demo_email("staff", "tkat"))
    mine = _text(staff.get("/certificates").get_data(as_text=True))
    assert f"Valid — superseded on {format_date(due)} unless you complete {version.label}" in mine

    hr = app.test_client()
    sign_in(hr, demo_email("hr", "tkat"))
    assert wording in _text(hr.get("/certificates/manage").get_data(as_text=True))
    expiring = _text(hr.get("/tracking/expiring?within=30").get_data(as_text=True))
    assert "1 certificate expires within 30 days" in expiring and wording in expiring


def test_a_plain_valid_certificate_reads_as_before(app, now):
    cert = issue("staff", "tkat", now)
    page = _text(app.test_client().get(f"/verify/{cert.code}").get_data(as_text=True))
    assert f"Valid This certificate is valid until {format_date(cert.expires_on)}." in page
    assert "superseded on" not in page
