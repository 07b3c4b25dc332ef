"""Issue 17 point 7: "training discussed" is one truth, recorded once per person (and so per request) with an
optional note, shown the same on the team page and the request; Approve is enabled exactly when it will work."""

import re
import secrets
from datetime import timedelta

from sqlalchemy import func, select

from modules.access import queries, services
from modules.access.models import AccessDecision, TrainingDiscussion, TrainingDiscussionNote
from modules.core.extensions import db
from tests.access.factories import account, certify, demo_user, join
from tests.certificates.factories import publish_next_version
from tests.conftest import demo_email
from tests.helpers import csrf_token, sign_in


def _client(app, local: str, slug: str = "e-act"):
    client = app.test_client()
    sign_in(client, demo_email(local, slug))
    return client


def _discussed(html: str, element_id: str) -> str:
    """The text of the "training discussed" value inside the element with this id (tags dropped)."""
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:div|dd)>', html, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", " ", found).split())


def _approve_disabled(html: str) -> bool:
    button = re.search(r'<button[^>]*name="approve"[^>]*>', html).group(0)
    return "disabled" in button


def _both_pages(manager, staff_id: int, request_id: int) -> tuple[str, str]:
    team = manager.get("/access/team").get_data(as_text=True)
    page = manager.get(f"/access/requests/{request_id}").get_data(as_text=True)
    on_request = re.search(r'data-discussed="\w+">(.*?)</dd>', page, re.S).group(1)
    return _discussed(team, f"discussed-{staff_id}"), " ".join(re.sub(r"<[^>]+>", " ", on_request).split())


def test_recorded_on_the_team_page_shows_the_same_on_a_request_made_a_minute_later(app, now):
    staff, manager_user = demo_user("staff", "e-act"), demo_user("manager", "e-act")
    certify(staff, now - timedelta(days=3))
    acct = account("e-act")
    db.session.commit()
    manager = _client(app, "manager")
    team = manager.get("/access/team").get_data(as_text=True)
    key = re.search(rf'id="discuss-{staff.id}".*?name="idempotency_key" type="hidden" value="([^"]+)"', team,
                    re.S).group(1)
    form = {"csrf_token": csrf_token(team), "idempotency_key": key, "request_id": "",
            "note": "We went through 4.2.1 together"}
    assert manager.post(f"/access/team/{staff.id}/training-discussed", data=form).status_code == 302
    db.session.commit()  # end the read transaction the pages left open (SQLite), so this one can write
    request = join("staff", "e-act", acct, now=now + timedelta(minutes=1))
    db.session.commit()

    on_team, on_request = _both_pages(manager, staff.id, request.id)
    assert on_team == on_request
    assert on_team.startswith("Recorded on ") and f"by {manager_user.name}" in on_team
    assert "We went through 4.2.1 together" in on_team
    page = manager.get(f"/access/requests/{request.id}").get_data(as_text=True)
    assert "Record training discussed" not in page  # recorded once: no second button
    assert not _approve_disabled(page)  # and Approve works
    approve = {"csrf_token": csrf_token(page), "step": "0", "approve": "Approve", "comment": ""}
    assert manager.post(f"/access/requests/{request.id}/decide", data=approve).status_code == 302
    db.session.commit()  # a fresh read: see what the requests wrote
    assert db.session.scalar(select(func.count()).select_from(AccessDecision)) == 1
    assert db.session.scalar(select(func.count()).select_from(TrainingDiscussion)) == 1


def test_recording_twice_records_once_and_a_new_version_needs_a_new_discussion(app, now):
    staff, manager = demo_user("staff", "e-act"), demo_user("manager", "e-act")
    first = services.record_training_discussed(manager, staff, idempotency_key="a" * 40, note="First", now=now)
    second = services.record_training_discussed(manager, staff, idempotency_key="b" * 40, note="Again",
                                                now=now + timedelta(days=1))
    assert second.id == first.id and db.session.scalar(select(func.count()).select_from(TrainingDiscussionNote)) == 1
    db.session.commit()
    publish_next_version(staff.trust_id, now + timedelta(days=2))  # counts from the start of that day
    later = now + timedelta(days=3)
    assert queries.discussion_for(staff, later) is None
    assert queries.training_summary(staff, later).discussion is None
    third = services.record_training_discussed(manager, staff, idempotency_key="c" * 40, now=later)
    assert third.id != first.id and queries.discussion_for(staff, later).id == third.id


def test_a_note_that_is_too_long_records_nothing_and_says_why(app, now):
    staff = demo_user("staff", "e-act")
    db.session.commit()
    manager = _client(app, "manager")
    team = manager.get("/access/team").get_data(as_text=True)
    form = {"csrf_token": csrf_token(team), "idempotency_key": secrets.token_urlsafe(32), "note": "x" * 5000}
    response = manager.post(f"/access/team/{staff.id}/training-discussed", data=form, follow_redirects=True)
    assert response.status_code == 200 and "Nothing was recorded: The note must be" in response.get_data(as_text=True)
    db.session.commit()  # a fresh read: see what the requests wrote
    assert db.session.scalar(select(func.count()).select_from(TrainingDiscussion)) == 0


def test_approve_is_enabled_exactly_when_approving_succeeds(app, now):
    """Walk the states that can block the line manager's step; in each, the page's button matches decide()."""
    staff, manager_user = demo_user("staff", "e-act"), demo_user("manager", "e-act")
    request = join("staff", "e-act", account("e-act"), now=now - timedelta(minutes=10))
    db.session.commit()
    manager = _client(app, "manager")
    seen = []  # every event is before the page's clock (which starts at `now`)
    for stage in ("nothing", "discussed", "certified"):
        db.session.commit()
        if stage == "discussed":
            services.record_training_discussed(manager_user, staff, idempotency_key="d" * 40, request=request,
                                               now=now - timedelta(minutes=5))
        elif stage == "certified":
            certify(staff, now - timedelta(minutes=2))
        db.session.commit()
        disabled = _approve_disabled(manager.get(f"/access/requests/{request.id}").get_data(as_text=True))
        try:
            services.decide(manager_user, db.session.get(type(request), request.id), step=0, approve=True,
                            comment="", now=now + timedelta(minutes=1))
            worked = True
        except services.AccessError:
            worked = False
        db.session.rollback()
        seen.append((stage, disabled, worked))
    assert seen == [("nothing", True, False), ("discussed", True, False), ("certified", False, True)]


def test_erasing_a_leaver_deletes_the_note_and_keeps_the_ledgered_record(app, now):
    from modules.evidence.ledger import verify_ledger
    from modules.operations.erasure import erase_person
    from modules.people.services import mark_left

    staff, manager = demo_user("staff", "e-act"), demo_user("manager", "e-act")
    services.record_training_discussed(manager, staff, idempotency_key="e" * 40, note="Private words", now=now)
    mark_left(staff, on=now.date() - timedelta(days=10), now=now)
    db.session.commit()
    erase_person(staff, actor=None, basis="request", reason="Lawful request", now=now + timedelta(days=1))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(TrainingDiscussionNote)) == 0
    assert db.session.scalar(select(func.count()).select_from(TrainingDiscussion)) == 1
    assert verify_ledger().ok
