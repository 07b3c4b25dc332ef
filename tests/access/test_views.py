"""The access pages through HTTP: forms, decisions, replay, forbidden requests, foreign ids, the team view."""

import re

import pytest
from sqlalchemy import func, select

from modules.access.models import (
    AccessDecision,
    AccessGrant,
    AccessRequest,
    OfficialAccount,
    TrainingDiscussion,
)
from modules.core.extensions import db
from modules.evidence.models import LedgerEntry
from modules.policies.models import Clause
from modules.training.queries import current_version
from tests.access.factories import account, certify, demo_user, join
from tests.conftest import demo_email
from tests.helpers import csrf_token, sign_in


def _client(app, local: str, slug: str):
    client = app.test_client()
    sign_in(client, demo_email(local, slug))
    return client


def _post(client, path: str, data: dict, page: str | None = None):
    html = client.get(page or path).get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_token(html), **data})


def _fresh() -> None:
    """End the test body's read snapshot, so rows written by requests since are visible."""
    db.session.rollback()


def _count(model) -> int:
    _fresh()
    return db.session.scalar(select(func.count()).select_from(model))


def test_pages_render_for_each_person(app, now):
    acct = account("tkat")
    certify(demo_user("staff", "tkat"), now)
    request = join("staff", "tkat", acct)
    db.session.commit()
    pages = ["/access/accounts", f"/access/accounts/{acct.id}", "/access/requests", "/access/requests/join",
             "/access/requests/new-account", f"/access/requests/{request.id}"]
    for person in ("staff", "comms", "admin", "head", "hr"):
        client = _client(app, person, "tkat")
        for path in pages:
            response = client.get(path)
            assert response.status_code == 200, (person, path, response.status_code)
    comms = _client(app, "comms", "tkat")
    for path in ("/access/approvals", "/access/register", "/access/accounts/new"):
        assert comms.get(path).status_code == 200, path
    assert _client(app, "manager", "tkat").get("/access/team").status_code == 200


def test_join_request_and_approval_over_http(app, now):
    acct = account("tkat")
    certify(demo_user("staff", "tkat"), now)
    db.session.commit()
    staff = _client(app, "staff", "tkat")
    response = _post(staff, "/access/requests/join", {"account": acct.id, "role": "moderator",
                                                      "reason": "I run the sports news"})
    assert response.status_code == 302, response.get_data(as_text=True)
    request_id = int(response.headers["Location"].rsplit("/", 1)[1])
    comms = _client(app, "comms", "tkat")
    page = comms.get(f"/access/requests/{request_id}").get_data(as_text=True)
    assert "I run the sports news" in page and "Certificate" in page and 'data-certificate-status="valid"' in page
    response = _post(comms, f"/access/requests/{request_id}/decide", {"step": "0", "approve": "Approve",
                                                                       "comment": "Yes"},
                     page=f"/access/requests/{request_id}")
    assert response.status_code == 302
    _fresh()
    grant = db.session.scalar(select(AccessGrant).where(AccessGrant.request_id == request_id))
    assert grant is not None and grant.role == "moderator"
    register = comms.get("/access/register").get_data(as_text=True)
    assert "Sam Taylor" in register and 'data-status="active"' in register


def test_replayed_approval_form_changes_nothing(app, now):
    acct = account("e-act")
    staff = demo_user("staff", "e-act")
    certify(staff, now)
    request = join("staff", "e-act", acct)
    db.session.commit()
    manager = _client(app, "manager", "e-act")
    page = manager.get(f"/access/requests/{request.id}").get_data(as_text=True)
    assert "Record training discussed" in page
    token = csrf_token(page)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page).group(1)
    discussed = {"csrf_token": token, "idempotency_key": key, "request_id": str(request.id)}
    assert manager.post(f"/access/team/{staff.id}/training-discussed", data=discussed).status_code == 302
    assert manager.post(f"/access/team/{staff.id}/training-discussed", data=discussed).status_code == 302
    assert _count(TrainingDiscussion) == 1  # the same form twice records once
    form = {"csrf_token": token, "step": "0", "approve": "Approve", "comment": ""}
    assert manager.post(f"/access/requests/{request.id}/decide", data=form).status_code == 302
    before = (_count(AccessDecision), _count(AccessGrant), _count(LedgerEntry))
    replay = manager.post(f"/access/requests/{request.id}/decide", data=form)
    assert replay.status_code == 409 and "nothing was changed" in replay.get_data(as_text=True)
    assert (_count(AccessDecision), _count(AccessGrant), _count(LedgerEntry)) == before
    comms = _client(app, "comms", "e-act")
    stale = _post(comms, f"/access/requests/{request.id}/decide", {"step": "0", "approve": "Approve"},
                  page=f"/access/requests/{request.id}")
    assert stale.status_code == 409
    assert (_count(AccessDecision), _count(AccessGrant)) == before[:2]
    _fresh()
    assert db.session.get(AccessRequest, request.id).step == 1


def test_approval_without_a_certificate_is_refused_on_the_server(app, now):
    acct = account("tkat")
    request = join("staff", "tkat", acct)
    db.session.commit()
    comms = _client(app, "comms", "tkat")
    page = comms.get(f"/access/requests/{request.id}").get_data(as_text=True)
    assert "cannot approve yet" in page
    response = _post(comms, f"/access/requests/{request.id}/decide", {"step": "0", "approve": "Approve"},
                     page=f"/access/requests/{request.id}")
    assert response.status_code == 400
    assert "does not hold a valid certificate" in response.get_data(as_text=True)
    assert _count(AccessDecision) == 0 and _count(AccessGrant) == 0
    refused = _post(comms, f"/access/requests/{request.id}/decide",
                    {"step": "0", "refuse": "Refuse", "comment": "Complete the training first"},
                    page=f"/access/requests/{request.id}")
    assert refused.status_code == 302
    _fresh()
    assert db.session.get(AccessRequest, request.id).status == "refused"


def test_tasmat_facebook_page_is_refused_quoting_clause_7_1(app):
    clause = db.session.scalar(select(Clause).where(
        Clause.version_id == current_version(demo_user("staff", "tasmat").trust_id).id, Clause.ref == "7.1"))
    staff = _client(app, "staff", "tasmat")
    response = _post(staff, "/access/requests/new-account", {
        "platform": "facebook", "handle": "North Park Academy", "owner": "central", "purpose": "A public page",
        "role": "administrator", "reason": "Reach parents"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "clause 7.1" in html and clause.text in html
    assert _count(OfficialAccount) == 0 and _count(AccessRequest) == 0


def test_tasmat_school_site_is_allowed(app):
    staff = _client(app, "staff", "tasmat")
    academy_id = demo_user("staff", "tasmat").academy_id
    response = _post(staff, "/access/requests/new-account", {
        "platform": "school_website", "handle": "https://northpark.example.sch.uk/year9", "owner": str(academy_id),
        "purpose": "Year 9 homework blog", "role": "administrator", "reason": "Homework reminders"})
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.mark.parametrize("slug,clause", [("e-act", "4.4.2"), ("tsat", "A.3.2")])
def test_forms_never_ask_for_a_password_and_show_the_trusts_note(app, slug, clause):
    staff = _client(app, "staff", slug)
    for path in ("/access/requests/new-account", "/access/requests/join"):
        html = staff.get(path).get_data(as_text=True)
        assert 'type="password"' not in html and 'name="password"' not in html
        assert 'id="credentials-note"' in html and f"#clause-{clause}" in html
    admin = _client(app, "admin", slug)
    html = admin.get("/access/accounts/new").get_data(as_text=True)
    assert 'type="password"' not in html and f"#clause-{clause}" in html


def test_a_posted_password_is_ignored_and_stored_nowhere(app):
    staff = _client(app, "staff", "e-act")
    academy_id = demo_user("staff", "e-act").academy_id
    secret = "hunter2-S3cret-password"
    response = _post(staff, "/access/requests/new-account", {
        "platform": "x", "handle": "@NorthParkEact", "owner": str(academy_id), "purpose": "News",
        "role": "administrator", "reason": "News", "password": secret, "username": "northpark"})
    assert response.status_code == 302
    _fresh()
    for model in (OfficialAccount, AccessRequest):
        for row in db.session.scalars(select(model)):
            values = " ".join(str(getattr(row, c.key)) for c in model.__table__.columns)
            assert secret not in values


def test_foreign_ids_in_forms_are_400_and_in_urls_404(app, now):
    foreign = account("e-act")
    own = account("tkat")
    db.session.commit()
    staff = _client(app, "staff", "tkat")
    response = _post(staff, "/access/requests/join", {"account": foreign.id, "role": "moderator", "reason": "x"})
    assert response.status_code == 400 and "nothing was changed" in response.get_data(as_text=True)
    other_academy = demo_user("staff", "e-act").academy_id
    response = _post(staff, "/access/requests/new-account", {
        "platform": "x", "handle": "@x", "owner": str(other_academy), "purpose": "p", "role": "administrator",
        "reason": "r"})
    assert response.status_code == 400
    assert staff.get(f"/access/accounts/{foreign.id}").status_code == 404
    assert staff.get(f"/access/accounts/{own.id}").status_code == 200
    assert staff.get(f"/access/accounts?academy={other_academy}").status_code == 404
    assert _count(AccessRequest) == 0


def test_team_view_shows_training_and_waiting_requests(app, now):
    acct = account("tsat")
    certify(demo_user("staff", "tsat"), now)
    join("staff", "tsat", acct)
    db.session.commit()
    manager = _client(app, "manager", "tsat")
    html = manager.get("/access/team").get_data(as_text=True)
    assert "Sam Taylor" in html and "Priya Shah" in html
    assert "Waiting for you" in html and "Certificate valid" in html
    assert 'id="waiting"' in html
    other = demo_user("staff2", "tsat")
    token = csrf_token(html)
    assert manager.post(f"/access/team/{other.id}/training-discussed",
                        data={"csrf_token": token, "idempotency_key": "x" * 40}).status_code == 404


def test_head_sees_only_their_academys_register(app, now):
    north = account("tkat", index=0)
    river = account("tkat", index=1)
    from tests.access.factories import granted

    granted("staff", "tkat", north, now=now)
    granted("staff2", "tkat", river, now=now)
    db.session.commit()
    head = _client(app, "head", "tkat")
    html = head.get("/access/register").get_data(as_text=True)
    assert "Sam Taylor" in html and "Jack Wilson" not in html
    assert head.get(f"/access/register?academy={river.academy_id}").status_code == 404
    assert head.get("/access/register?academy=central").status_code == 404
    hr = _client(app, "hr", "tkat").get("/access/register").get_data(as_text=True)
    assert "Sam Taylor" in hr and "Jack Wilson" in hr


def test_agoras_inferred_approver_is_explained_on_the_forms(app):
    staff = _client(app, "staff", "agora")
    for path in ("/access/requests/join", "/access/requests/new-account"):
        html = staff.get(path).get_data(as_text=True)
        assert "Headteacher (CEO for the central team)" in html
        assert "inferred from 3.4, 3.6 and 4.1" in html
