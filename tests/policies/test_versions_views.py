"""HR's policy-version pages: the list, the draft review (comparison, quiz bank) and publishing."""

import re

from sqlalchemy import func, select

from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.people.models import Trust
from modules.policies import queries
from modules.policies.models import PolicyVersion
from modules.policies.services import london_date
from tests.helpers import csrf_token


def _versions(slug: str) -> list[PolicyVersion]:
    trust = db.session.scalar(select(Trust).where(Trust.slug == slug))
    return sorted(queries.versions_of(trust.id), key=lambda v: v.number)


def _date(day) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_hr_sees_the_versions_with_the_draft_and_the_past_review_flag(client, login):
    login("hr", "e-act")
    page = client.get("/hr/policy")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "E-ACT" in html and "Review and publish version 2" in html
    assert "Past review" in html and "31 January 2023" in html


def test_the_draft_review_shows_clause_5_5_added_and_the_quiz_bank_check(client, login):
    _demo, seed = _versions("e-act")
    login("hr", "e-act")
    html = client.get(f"/hr/policy/versions/{seed.id}").get_data(as_text=True)
    text = _text(html)
    assert "Clause 5.5 Added" in text and "Clause 5.5.1 Added" in text
    assert "Clause 5.6 (was 5.5) Renumbered only" in text
    assert "Clauses added 2" in text and "Clauses removed 0" in text and "Clauses reworded 0" in text
    assert "Modules staff must read again 5. Responsible use of social media" in text
    assert "[added: </span>The use of WhatsApp for Trust purposes is strictly prohibited" in html
    assert "On the changes (1)" in text and "e-act-whatsapp" in text.lower()
    assert 'style="' not in html
    assert "Publish version 2" in text


def test_publishing_needs_a_confirmation_then_publishes_once(client, login):
    demo, seed = _versions("e-act")
    today = london_date(utcnow())
    login("hr", "e-act")
    url = f"/hr/policy/versions/{seed.id}"
    token = csrf_token(client.get(url).get_data(as_text=True))
    refused = client.post(f"{url}/publish", data={"csrf_token": token, "effective_on": _date(today)})
    assert refused.status_code == 400
    assert "Confirm that you have reviewed the changes" in refused.get_data(as_text=True)
    db.session.rollback()  # a fresh read after the request
    assert [v.status for v in _versions("e-act")] == ["published", "draft"]

    data = {"csrf_token": token, "effective_on": _date(today), "confirm": "y"}
    done = client.post(f"{url}/publish", data=data)
    assert done.status_code == 302 and done.headers["Location"].endswith(url)
    db.session.rollback()  # a fresh read after the request
    demo, seed = _versions("e-act")
    assert (demo.status, seed.status, seed.effective_on) == ("superseded", "published", today)
    published_at = seed.published_at
    count = db.session.scalar(select(func.count()).select_from(PolicyVersion))

    again = client.post(f"{url}/publish", data=data, follow_redirects=True)
    assert again.status_code == 200 and "already published. Nothing was changed." in again.get_data(as_text=True)
    db.session.rollback()  # a fresh read after the request
    demo, seed = _versions("e-act")
    assert (demo.status, seed.status, seed.published_at) == ("superseded", "published", published_at)
    assert db.session.scalar(select(func.count()).select_from(PolicyVersion)) == count


def test_an_unreal_or_tampered_date_is_refused_and_changes_nothing(client, login):
    _demo, seed = _versions("e-act")
    login("hr", "e-act")
    url = f"/hr/policy/versions/{seed.id}"
    token = csrf_token(client.get(url).get_data(as_text=True))
    unreal = client.post(f"{url}/publish", data={"csrf_token": token, "confirm": "y",
                                                 "effective_on": ["31", "2", "2027"]})
    assert unreal.status_code == 400 and "Enter the effective date as a real date" in unreal.get_data(as_text=True)
    tampered = client.post(f"{url}/publish", data={"csrf_token": token, "confirm": "y", "effective_on": ["1", "2"]})
    assert tampered.status_code == 400
    db.session.rollback()  # a fresh read after the request
    assert [v.status for v in _versions("e-act")] == ["published", "draft"]


def test_hr_sets_the_next_review_date_and_the_flag_clears(client, login):
    current = _versions("tkat")[0]
    login("hr", "tkat")
    url = f"/hr/policy/versions/{current.id}"
    token = csrf_token(client.get(url).get_data(as_text=True))
    assert "Past review" in client.get("/hr/policy").get_data(as_text=True)
    year = london_date(utcnow()).year + 1
    saved = client.post(f"{url}/next-review", data={"csrf_token": token, "next_review_on": ["30", "6", str(year)]},
                        follow_redirects=True)
    assert saved.status_code == 200 and f"now due on 30 June {year}" in saved.get_data(as_text=True)
    listing = client.get("/hr/policy").get_data(as_text=True)
    assert "Past review" not in listing and f"30 June {year}" in listing


def test_another_trusts_version_is_not_found_and_staff_may_not_publish(client, login):
    _demo, seed = _versions("e-act")
    login("hr", "tkat")
    assert client.get(f"/hr/policy/versions/{seed.id}").status_code == 404
    other = client.application.test_client()
    login("staff", "e-act", other)
    assert other.get("/hr/policy").status_code == 403
    assert other.get(f"/hr/policy/versions/{seed.id}").status_code == 403


def test_the_tkat_dashboard_flags_its_policy_past_review(client, login):
    login("hr", "tkat")
    html = client.get("/tracking").get_data(as_text=True)
    assert "past review: it was due for review by 31 December 2025" in _text(html)
    other = client.application.test_client()
    login("hr", "tasmat", other)  # states no review date
    assert 'id="past-review"' not in other.get("/tracking").get_data(as_text=True)
