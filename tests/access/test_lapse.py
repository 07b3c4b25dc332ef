"""Grants lapse with their certificate, derived at an explicit `now`; the sweep only records and tells."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from modules.access import queries, services
from modules.access.exports import reason_text
from modules.access.models import AccessGrant, AccessRevocation, LapseObservation
from modules.access.status import grant_state, london_midnight
from modules.certificates.services import revoke_certificate
from modules.core.extensions import db
from modules.evidence.ledger import verify_ledger
from modules.evidence.models import LedgerEntry
from modules.notifications.models import OutboxMessage
from modules.policies.services import create_version, publish_version
from modules.training.queries import current_version
from tests.access.factories import account, certify, demo_user, granted

TABLES = (AccessGrant, AccessRevocation, LapseObservation, LedgerEntry, OutboxMessage)


def _counts() -> tuple:
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in TABLES)


def _state(grant, at):
    return grant_state(grant, at)


def test_moving_now_past_expiry_lapses_the_grant_with_no_write(app, now):
    grant = granted("staff", "tkat", account("tkat"), now=now)
    db.session.commit()
    expiry = london_midnight(grant.certificate.expires_on)
    before = _counts()
    assert _state(grant, now).active
    assert _state(grant, expiry - timedelta(seconds=1)).active
    late = _state(grant, expiry)
    assert not late.active and late.status == "lapsed" and late.reason == "expired" and late.since == expiry
    rows = queries.register_rows(grant.account.trust, expiry + timedelta(days=1))
    assert rows[0].state.reason == "expired"
    assert _counts() == before  # derived: nothing was written


def test_revoked_certificate_lapses_the_grant_and_flags_the_account(app, now):
    acct = account("e-act")  # E-ACT needs two administrators (4.4.2)
    first = granted("staff", "e-act", acct, now=now)
    second = granted("teacher", "e-act", acct, now=now)
    db.session.commit()
    trust = acct.trust
    row = queries.account_rows(trust, now, accounts=[acct])[0]
    assert not row.health.flagged and row.active_count("administrator") == 2
    later = now + timedelta(hours=1)
    revoke_certificate(first.certificate, actor=demo_user("hr", "e-act"), reason="Misconduct", now=later)
    db.session.commit()
    state = _state(first, later)
    assert state.status == "lapsed" and state.reason == "revoked"
    assert _state(second, later).active
    row = queries.account_rows(trust, later, accounts=[acct])[0]
    assert [(r.role, r.active, r.required) for r in row.health.below] == [("administrator", 1, 2)]
    assert _state(first, now).active  # before the revocation it was active: history is kept


def test_account_that_will_fall_below_within_30_days_is_flagged(app, now):
    acct = account("e-act")
    granted("staff", "e-act", acct, now=now)
    teacher = demo_user("teacher", "e-act")
    old = certify(teacher, now - timedelta(days=350))  # expires in about 15 days
    granted("teacher", "e-act", acct, now=now, certificate=False)
    db.session.commit()
    row = queries.account_rows(acct.trust, now, accounts=[acct])[0]
    assert row.health.below == []
    [falling] = row.health.falling
    assert falling.role == "administrator" and falling.falls_below_at == london_midnight(old.expires_on)
    assert acct.trust.rules.register_warning_days == 30
    farther = queries.account_rows(acct.trust, now - timedelta(days=30), accounts=[acct])[0]
    assert farther.health.falling == []  # more than 30 days ahead: not flagged yet
    after = queries.account_rows(acct.trust, london_midnight(old.expires_on), accounts=[acct])[0]
    assert [r.role for r in after.health.below] == ["administrator"]


def test_leaving_lapses_the_grant(app, now):
    grant = granted("staff", "tsat", account("tsat"), now=now)
    db.session.commit()
    person = grant.user
    person.left_on = (now + timedelta(days=10)).date()
    db.session.commit()
    assert _state(grant, now).active
    state = _state(grant, now + timedelta(days=11))
    assert state.reason == "left"
    person.active = False
    db.session.commit()
    assert _state(grant, now).reason == "left"


def test_a_new_policy_version_supersedes_after_the_grace_period(app, now):
    grant = granted("staff", "agora", account("agora"), now=now)
    db.session.commit()
    trust = grant.account.trust
    old = current_version(trust.id)
    published = now + timedelta(days=5)
    version = create_version(trust, source_file="policies/agora-v2.txt",
                             raw=(old.source_text + "\n\n8. New section\n\n8.1 Log out of shared devices.\n").encode(),
                             now=published)
    publish_version(version, now=published)
    db.session.commit()
    db.session.expire_all()
    grace = trust.rules.supersede_grace_days
    assert _state(grant, published + timedelta(days=grace) - timedelta(seconds=1)).active
    state = _state(grant, published + timedelta(days=grace))
    assert state.reason == "superseded"
    # Approval needs a certificate for the *current* version: the old one no longer counts, even in grace.
    assert queries.current_certificate(grant.user, published + timedelta(days=1)) is None


def test_sweep_records_lapses_once_and_emails_the_approvers(app, now):
    acct = account("tsat")
    grant = granted("staff", "tsat", acct, now=now)
    db.session.commit()
    approvers = {demo_user(p, "tsat").email for p in ("manager", "head", "dpo")}
    assert services.sweep(now=now).observed == []
    expiry = london_midnight(grant.certificate.expires_on)
    report = services.sweep(now=expiry)
    db.session.commit()
    assert [(o.grant_id, o.reason) for o in report.observed] == [(grant.id, "expired")]
    assert report.emails == 3
    mail = db.session.scalars(select(OutboxMessage).where(OutboxMessage.reason.like("access-lapse:%"))).all()
    assert {m.recipient for m in mail} == approvers
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "access_lapse_observed"))
    assert entry is not None and entry.record_id == report.observed[0].id
    before = _counts()
    again = services.sweep(now=expiry + timedelta(days=1))
    db.session.commit()
    assert again.observed == [] and again.emails == 0 and _counts() == before
    # Nothing reads the observation to decide validity: at an earlier `now` the grant is still active.
    assert _state(grant, now).active
    assert verify_ledger(acct.trust_id).ok


def test_sweep_command_is_idempotent(app, now):
    grant = granted("staff", "tkat", account("tkat"), now=now)
    db.session.commit()
    at = london_midnight(grant.certificate.expires_on).isoformat()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["access", "sweep", "--at", at])
    assert first.exit_code == 0 and "1 lapse(s) newly observed" in first.output, first.output
    second = runner.invoke(args=["access", "sweep", "--at", at])
    assert second.exit_code == 0 and "0 lapse(s) newly observed" in second.output
    assert runner.invoke(args=["access", "sweep", "--trust", "nope"]).exit_code == 2
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0


def test_removing_a_grant_is_a_ledger_event_and_happens_once(app, now):
    acct = account("tkat")
    grant = granted("staff", "tkat", acct, now=now)
    comms = demo_user("comms", "tkat")
    services.revoke_grant(comms, grant, reason="no_longer_needed", now=now + timedelta(hours=1))
    db.session.commit()
    assert _state(grant, now + timedelta(hours=2)).status == "removed"
    assert _state(grant, now).active
    with pytest.raises(services.StaleDecision):
        services.revoke_grant(comms, grant, reason="no_longer_needed", now=now + timedelta(hours=3))
    db.session.rollback()
    with pytest.raises(services.AccessError):
        services.revoke_grant(demo_user("staff", "tkat"), grant, reason="no_longer_needed", now=now)
    db.session.rollback()
    kinds = db.session.scalars(select(LedgerEntry.kind).where(
        LedgerEntry.record_table.in_(("access_grant", "access_revocation")))).all()
    assert sorted(kinds) == ["access_granted", "access_revoked"]
    row = queries.register_rows(acct.trust, now + timedelta(hours=2))[0]
    assert "Removed by Colin Mensah" in reason_text(row)
