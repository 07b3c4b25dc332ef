"""Each trust's approval chain, end to end through the services: the chain comes from trusts.yaml."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from modules.access import queries, services
from modules.access.models import AccessGrant, AccessRequest, OfficialAccount
from modules.core.extensions import db
from modules.evidence.ledger import verify_ledger
from modules.evidence.models import LedgerEntry
from modules.notifications.models import OutboxMessage
from modules.people.services import grant_role
from tests.access.factories import account, approve_through, certify, demo_user, join

#: trust → the demo people who decide each step, in order, for a North Park staff member's request.
CHAINS = {
    "tkat": ["comms"],
    "e-act": ["manager", "comms"],
    "tasmat": ["head"],
    "tsat": ["manager", "head", "dpo"],
    "agora": ["head"],
}


@pytest.mark.parametrize("slug", sorted(CHAINS))
def test_each_trusts_chain_runs_in_order_and_grants(app, now, slug):
    acct = account(slug)
    staff = demo_user("staff", slug)
    cert = certify(staff, now)
    request = join("staff", slug, acct)
    deciders = approve_through(request, now)
    db.session.commit()
    assert [p.email.split("@")[0] for p in deciders] == CHAINS[slug]
    grant = request.grant
    assert grant is not None and grant.user_id == staff.id and grant.certificate_id == cert.id
    assert grant.approver_id_list == [p.id for p in deciders]
    assert [d.outcome for d in request.decisions] == ["approved"] * len(deciders)
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.record_table == "access_grant",
                                                        LedgerEntry.record_id == grant.id))
    assert entry is not None and entry.kind == "access_granted"
    rows = queries.register_rows(staff.trust, now)
    assert [(r.grant.id, r.state.active) for r in rows] == [(grant.id, True)]
    assert verify_ledger(staff.trust_id).ok


@pytest.mark.parametrize("slug", ["e-act", "tsat"])
def test_a_later_approver_cannot_act_before_the_earlier_step(app, now, slug):
    acct = account(slug)
    certify(demo_user("staff", slug), now)
    request = join("staff", slug, acct)
    later = demo_user(CHAINS[slug][1], slug)
    assert not queries.may_decide(later, request)
    with pytest.raises(services.AccessError):
        services.decide(later, request, step=0, approve=True, comment="", now=now)
    with pytest.raises(services.StaleDecision):
        services.decide(later, request, step=1, approve=True, comment="", now=now)
    assert request.decisions == [] and request.step == 0


def test_eact_line_manager_must_record_training_discussed_first(app, now):
    acct = account("e-act")
    staff = demo_user("staff", "e-act")
    certify(staff, now)
    request = join("staff", "e-act", acct)
    manager = demo_user("manager", "e-act")
    with pytest.raises(services.AccessError, match="discussed training"):
        services.decide(manager, request, step=0, approve=True, comment="", now=now)
    services.record_training_discussed(manager, staff, idempotency_key="k" * 40, request=request, now=now)
    services.decide(manager, request, step=0, approve=True, comment="", now=now)
    assert request.step == 1
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "training_discussed"))
    assert entry is not None


def test_eact_training_discussed_on_the_team_page_counts_for_a_request_made_later(app, now):
    """One truth: a discussion recorded before the request (same policy version) counts for it."""
    acct = account("e-act")
    staff, manager = demo_user("staff", "e-act"), demo_user("manager", "e-act")
    certify(staff, now - timedelta(days=30))
    services.record_training_discussed(manager, staff, idempotency_key="old" * 14, note="Went through 4.2",
                                       now=now - timedelta(minutes=1))
    request = join("staff", "e-act", acct, now=now)
    step = queries.current_step(request)
    assert queries.approval_blockers(request, step, now) == []
    summary = queries.training_summary(staff, now)
    assert summary.discussed_by == manager and summary.discussion.note.text == "Went through 4.2"
    # Recording again (from the request) writes nothing: it is recorded once.
    again = services.record_training_discussed(manager, staff, idempotency_key="new" * 14, request=request, now=now)
    assert again.id == summary.discussion.id
    services.decide(manager, request, step=0, approve=True, comment="", now=now + timedelta(hours=1))
    assert request.step == 1


def test_agora_central_team_account_is_approved_by_the_ceo(app, now):
    acct = account("agora", index=None)
    comms = demo_user("comms", "agora")
    certify(comms, now)
    request = join("comms", "agora", acct)
    step = queries.current_step(request)
    assert "inferred" in step.inferred or "3.6" in step.inferred
    assert [p.email.split("@")[0] for p in queries.approvers_for(request, step)] == ["ceo"]
    deciders = approve_through(request, now)
    assert [p.email.split("@")[0] for p in deciders] == ["ceo"]


def test_headteacher_of_another_academy_cannot_approve(app, now):
    acct = account("tasmat", index=1)  # Riverside: head2's academy
    certify(demo_user("staff", "tasmat"), now)
    request = join("staff", "tasmat", acct)
    approvers = queries.approvers_for(request, queries.current_step(request))
    assert [p.email.split("@")[0] for p in approvers] == ["head2"]
    assert not queries.may_decide(demo_user("head", "tasmat"), request)


def test_requester_never_approves_their_own_request(app, now):
    acct = account("tkat", index=None)
    comms = demo_user("comms", "tkat")
    grant_role(demo_user("hr", "tkat"), "comms_lead")  # a second SRO, so the request has someone to approve it
    certify(comms, now)
    request = join("comms", "tkat", acct)
    assert [p.email.split("@")[0] for p in queries.approvers_for(request, queries.current_step(request))] == ["hr"]
    with pytest.raises(services.AccessError):
        services.decide(comms, request, step=0, approve=True, comment="", now=now)


@pytest.mark.parametrize("slug", ["tasmat", "tsat"])
def test_central_team_accounts_are_approved_by_the_ceo_where_the_step_is_per_academy(app, now, slug):
    acct = account(slug, index=None)
    certify(demo_user("staff", slug), now)
    request = join("staff", slug, acct)
    deciders = approve_through(request, now)
    assert [p.email.split("@")[0] for p in deciders] == ["ceo" if c == "head" else c for c in CHAINS[slug]]
    assert request.status == "approved" and request.grant is not None


def _rows() -> tuple:
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (AccessRequest, OfficialAccount, OutboxMessage))


def test_a_request_nobody_could_approve_is_refused_and_nothing_is_written(app, now):
    comms = demo_user("comms", "tkat")  # the only SRO: the requester never approves their own request
    before = _rows()
    with pytest.raises(services.AccessError, match="nobody can approve its “Senior Responsible Officer"):
        join("comms", "tkat", account("tkat", index=None))
    with pytest.raises(services.AccessError, match="for the central team"):
        services.request_new_account(comms, platform="instagram", handle="@tkat_trust", academy=None, purpose="News",
                                     role="administrator", reason="Trust news", answers={}, now=now)
    assert _rows()[0::2] == before[0::2] and _rows()[1] == before[1] + 1  # only the account registered above


def test_a_request_whose_line_manager_step_has_nobody_is_refused(app, now):
    staff = demo_user("staff", "e-act")
    staff.line_manager = None
    db.session.flush()
    before = _rows()
    with pytest.raises(services.AccessError, match="“Line manager” step for North Park Academy"):
        services.request_new_account(staff, platform="school_website", handle="np.example/blog", academy=staff.academy,
                                     purpose="News", role="administrator", reason="Blog", answers={}, now=now)
    assert _rows() == before


def test_new_account_request_proposes_then_activates_the_account(app, now):
    staff = demo_user("staff", "tkat")
    certify(staff, now)
    request = services.request_new_account(
        staff, platform="instagram", handle="@northpark_pe", academy=staff.academy, purpose="PE fixtures",
        role="administrator", reason="Share results", answers={}, now=now)
    assert request.account.status == "proposed"
    approve_through(request, now)
    assert request.account.status == "active"
    assert db.session.scalar(select(AccessGrant).where(AccessGrant.request_id == request.id)) is not None


def test_refusal_closes_a_proposed_account_and_needs_a_comment(app, now):
    staff = demo_user("staff", "tkat")
    request = services.request_new_account(
        staff, platform="instagram", handle="@np_art", academy=staff.academy, purpose="Art",
        role="administrator", reason="Show artwork", answers={}, now=now)
    comms = demo_user("comms", "tkat")
    with pytest.raises(services.AccessError, match="comment"):
        services.decide(comms, request, step=0, approve=False, comment="  ", now=now)
    services.decide(comms, request, step=0, approve=False, comment="Use the main account", now=now)
    assert request.status == "refused" and request.account.status == "closed"
