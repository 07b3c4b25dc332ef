"""Minimums are gates: TSAT A.5.4 and the Appendix 2 form, E-ACT 4.4.2. One person counts once.

A new account cannot become active, and its new-account request cannot be approved at any step, until it has
the people the trust's rules ask for; the reason quotes the clause. Removing access that takes an active
account below its minimum needs an explicit confirmation. The register flags a later fall, with who to add.
"""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from modules.access import queries, services
from modules.access.models import AccessGrant, AccessRevocation
from modules.access.rules import Shortfall, people_needed, shortfalls, who_to_add
from modules.core.extensions import db
from tests.access.factories import account, approve_through, certify, demo_user, join, trust
from tests.conftest import demo_email
from tests.helpers import csrf_token, sign_in

A54 = "A.5.4: “The team must designate at least two approved Administrators”"
APPENDIX2 = "Appendix 2: “the site must have at least 2 approved moderators”"
EACT = "4.4.2: “every account must have two administrative contacts”"

TSAT_ANSWERS = {
    "aims": "Share Year 9 news", "content": "Weekly posts", "audience": ["Pupils' family members"],
    "contributors": ["The Academy's staff"], "administrators": "Priya Shah, Tom Reid",
    "moderators": "Martin Lowe, Jack Wilson", "vetting": "Priya Shah", "host": "The Academy",
    "go_live_on": date(2027, 1, 4), "closure_on": date(2027, 7, 20),
    "consent": "No pupils contribute", "security": "Comments off",
}


def _new_site(slug: str, local: str, now, *, handle: str = "northpark.example.sch.uk/year9"):
    person = demo_user(local, slug)
    certify(person, now)
    return services.request_new_account(
        person, platform="school_website", handle=handle, academy=person.academy, purpose="Year 9 news",
        role="administrator", reason="I run Year 9 news", answers=TSAT_ANSWERS if slug == "tsat" else {}, now=now)


def _decide(request, now):
    step = queries.current_step(request)
    approver = queries.approvers_for(request, step)[0]
    if step.requires_training_discussed:
        services.record_training_discussed(approver, request.requester, idempotency_key=f"k{request.id}-{step.index}",
                                           request=request, now=now)
    services.decide(approver, request, step=request.step, approve=True, comment="", now=now)


def _blocked(request, now) -> str:
    """Try to approve the waiting step; it must be refused for the minimums, with nothing changed."""
    step = request.step
    with pytest.raises(services.BelowMinimum) as refused:
        _decide(request, now)
    db.session.refresh(request)
    assert request.step == step and request.status == "pending" and request.account.status == "proposed"
    return refused.value.message


def _joined(local: str, request, role: str, now):
    """Another person (certified) asks for a role on the request's proposed account."""
    slug = request.account.trust.slug
    if queries.current_certificate(demo_user(local, slug), now) is None:
        certify(demo_user(local, slug), now)
    return join(local, slug, request.account, role, now)


def test_shortfalls_count_each_person_once():
    """Hall's condition: the same person as administrator and moderator fills one place, never two."""
    need = {"administrator": 2, "moderator": 2}
    same = shortfalls(need, {"administrator": {1}, "moderator": {1}})
    assert [(s.roles, s.required, s.have) for s in same] == [
        (("administrator",), 2, 1), (("moderator",), 2, 1), (("administrator", "moderator"), 4, 1)]
    assert people_needed(same) == 3
    two_both = shortfalls(need, {"administrator": {1, 2}, "moderator": {1, 2}})
    assert two_both == [Shortfall(("administrator", "moderator"), 4, 2)] and people_needed(two_both) == 2
    assert shortfalls(need, {"administrator": {1, 2}, "moderator": {3, 4}}) == []
    assert shortfalls(need, {"administrator": {1, 2, 3}, "moderator": {3, 4}}) == []  # 1, 2 admin; 3, 4 moderate
    assert shortfalls({"administrator": 2, "moderator": 0}, {"administrator": {1}}) == [
        Shortfall(("administrator",), 2, 1)]


def test_who_to_add_names_the_roles_and_the_people(app):
    rules = trust("tsat").rules
    found = shortfalls(rules.minimums, {"administrator": {1}, "moderator": {1}})
    assert who_to_add(rules, found) == "1 more administrator and 1 more moderator (3 different people, as one person counts once)"
    eact = trust("e-act").rules
    assert who_to_add(eact, shortfalls(eact.minimums, {})) == "2 more administrative contacts"


def test_tsat_one_administrator_who_is_also_the_moderator_cannot_be_approved(app, now):
    """The issue's case: one person named as administrator and as moderator. Refused at the first step,
    quoting A.5.4 and the Appendix 2 form."""
    request = _new_site("tsat", "teacher", now)
    join("teacher", "tsat", request.account, "moderator", now)  # the same person asks to moderate it too
    message = _blocked(request, now)
    assert "1 of 2 administrators; 1 of 2 moderators; 1 of 4 different people" in message
    assert A54 in message and APPENDIX2 in message and "one person counts once" in message


def test_tsat_two_of_each_goes_active_and_every_step_checks(app, now):
    request = _new_site("tsat", "teacher", now)
    _joined("office", request, "administrator", now)
    _joined("manager", request, "moderator", now)
    message = _blocked(request, now)
    assert "It has 1 of 2 moderators." in message  # the administrators are there; one moderator is missing
    staff2 = _joined("staff2", request, "moderator", now)
    _decide(request, now)  # step 1 (line manager): four different people have asked
    assert request.step == 1
    services.withdraw(demo_user("staff2", "tsat"), staff2, now=now)  # one of them changes their mind
    assert "1 of 2 moderators" in _blocked(request, now)  # step 2 (Principal) checks again
    again = _joined("staff2", request, "moderator", now)
    _decide(request, now)
    assert request.step == 2
    # The last step makes the account active, so the others must be approved on their own requests first.
    message = _blocked(request, now)
    assert "before the final approval" in message and "1 of 2 administrators" in message
    for other in [r for r in queries.pending_requests(request.trust_id) if r.id != request.id]:
        approve_through(other, now)
    assert again.status == "approved" and request.account.status == "proposed"
    _decide(request, now)
    assert request.status == "approved" and request.account.status == "active"
    active = {(g.user_id, g.role) for g in queries.grants_of(request.trust_id, account_ids=[request.account_id])}
    assert len(active) == 4 and len({u for u, _ in active}) == 4
    assert not queries.account_rows(request.account.trust, now, accounts=[request.account])[0].health.flagged


def test_eact_one_administrative_contact_cannot_be_approved_then_two_go_active(app, now):
    request = _new_site("e-act", "teacher", now)
    message = _blocked(request, now)
    assert "1 of 2 administrative contacts" in message and EACT in message
    office = join("office", "e-act", request.account, "administrator", now)
    certify(demo_user("office", "e-act"), now)
    _decide(request, now)  # line manager: two contacts have asked
    assert "before the final approval" in _blocked(request, now)
    approve_through(office, now)
    _decide(request, now)
    assert request.status == "approved" and request.account.status == "active"


def test_trusts_without_minimums_are_not_gated(app, now):
    request = _new_site("tkat", "teacher", now)
    approve_through(request, now)
    assert request.account.status == "active"


def test_an_account_cannot_be_registered_or_marked_active_below_its_minimum(app, now):
    admin = demo_user("admin", "tsat")
    with pytest.raises(services.BelowMinimum, match="0 of 2 administrators; 0 of 2 moderators"):
        services.register_account(admin, platform="school_website", handle="np.example/a", academy=None,
                                  purpose="News", status="active", now=now)
    acct = account("tsat", status="proposed")
    for local, role in [("teacher", "administrator"), ("office", "administrator"), ("manager", "moderator")]:
        certify(demo_user(local, "tsat"), now)
        approve_through(join(local, "tsat", acct, role, now), now)
    with pytest.raises(services.BelowMinimum, match="1 of 2 moderators") as refused:
        services.set_account_status(admin, acct, "active", now=now)
    assert APPENDIX2 in refused.value.message
    certify(demo_user("staff2", "tsat"), now)
    approve_through(join("staff2", "tsat", acct, "moderator", now), now)
    services.set_account_status(admin, acct, "active", now=now)
    assert acct.status == "active"


def test_removing_access_below_the_minimum_needs_confirmation_naming_the_shortfall(app, now):
    acct = account("e-act")
    grants = []
    for local in ("teacher", "office"):
        certify(demo_user(local, "e-act"), now)
        request = join(local, "e-act", acct, "administrator", now)
        approve_through(request, now)
        grants.append(request.grant)
    comms = demo_user("comms", "e-act")
    with pytest.raises(services.BelowMinimum) as refused:
        services.revoke_grant(comms, grants[0], reason="changed_role", now=now)
    assert "1 of 2 administrative contacts" in refused.value.message and EACT in refused.value.message
    assert db.session.scalar(select(func.count()).select_from(AccessRevocation)) == 0
    db.session.commit()
    # Through the page: the warning names the shortfall; without the box ticked nothing is removed.
    client = app.test_client()
    sign_in(client, demo_email("comms", "e-act"))
    page = client.get(f"/access/grants/{grants[0].id}/revoke").get_data(as_text=True)
    assert 'id="below-minimum"' in page and "it would have 1 of 2 administrative contacts" in page
    response = client.post(f"/access/grants/{grants[0].id}/revoke",
                           data={"csrf_token": csrf_token(page), "reason": "changed_role"})
    assert response.status_code == 400 and "confirm that you understand" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AccessRevocation)) == 0
    response = client.post(f"/access/grants/{grants[0].id}/revoke",
                           data={"csrf_token": csrf_token(page), "reason": "changed_role", "accept_shortfall": "y"})
    assert response.status_code == 302
    db.session.rollback()  # end this session's read, to see the page's commit
    assert db.session.scalar(select(func.count()).select_from(AccessRevocation)) == 1


def test_register_flags_a_later_fall_with_who_to_add(app, now):
    """A leaver takes an active TSAT account below its minimums: flagged, with who to add and the clauses."""
    acct = account("tsat", status="proposed")
    for local, role in [("teacher", "administrator"), ("office", "administrator"), ("manager", "moderator"),
                        ("staff2", "moderator")]:
        certify(demo_user(local, "tsat"), now)
        approve_through(join(local, "tsat", acct, role, now), now)
    services.set_account_status(demo_user("admin", "tsat"), acct, "active", now=now)
    leaver = demo_user("office", "tsat")
    leaver.left_on = (now - timedelta(days=1)).date()
    certify(demo_user("staff", "tsat"), now)
    join("staff", "tsat", acct, "administrator", now)
    db.session.commit()
    client = app.test_client()
    sign_in(client, demo_email("hr", "tsat"))
    html = client.get("/access/register").get_data(as_text=True)
    assert f'id="flagged-{acct.id}"' in html and "Below minimum: 1 of 2 administrators" in html
    assert "Who to add: 1 more administrator." in html and A54 in html
    assert "Already asked:" in html and "Sam Taylor (administrator)" in html


def test_request_page_disables_approve_and_says_what_is_missing(app, now):
    request = _new_site("tsat", "teacher", now)
    db.session.commit()
    client = app.test_client()
    sign_in(client, demo_email("manager", "tsat"))
    html = client.get(f"/access/requests/{request.id}").get_data(as_text=True)
    assert 'id="minimum-gate"' in html and "it has 1 of 2 administrators; 0 of 2 moderators" in html
    assert A54 in html and APPENDIX2 in html
    [button] = [tag for tag in re.findall(r"<button[^>]*>", html) if 'name="approve"' in tag]
    assert "disabled" in button and 'aria-describedby="approve-blocked"' in button
    assert 'id="approve-blocked"' in html
    response = client.post(f"/access/requests/{request.id}/decide",
                           data={"csrf_token": csrf_token(html), "step": "0", "approve": "Approve"})
    assert response.status_code == 400 and "You cannot approve this yet" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AccessGrant)) == 0
