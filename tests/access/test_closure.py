"""Closing an account is a dated, ledgered event: grants end from then on, history stays, reopening revives nothing."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from modules.access import queries, services
from modules.access.models import AccountClosure
from modules.access.status import grant_state
from modules.core.extensions import db
from modules.evidence.ledger import entry_for, verify_ledger
from tests.access.factories import account, certify, demo_user, granted, join


def test_closing_ends_grants_from_then_on_and_is_a_ledger_event(app, now):
    acct = account("tkat", now=now)
    grant = granted("staff", "tkat", acct, now=now)
    closed_at = now + timedelta(days=10)
    admin = demo_user("admin", "tkat")
    services.set_account_status(admin, acct, "closed", now=closed_at)
    db.session.commit()
    assert grant_state(grant, closed_at - timedelta(seconds=1)).active  # before the closure: as it was
    state = grant_state(grant, closed_at)
    assert (state.status, state.since) == ("closed", closed_at)
    closure = db.session.scalar(select(AccountClosure).where(AccountClosure.account_id == acct.id))
    assert (closure.actor_id, closure.created_at) == (admin.id, closed_at)
    assert entry_for("account_closure", closure.id, "account_closed") is not None
    assert verify_ledger(acct.trust_id).ok
    rows = queries.register_rows(acct.trust, now + timedelta(days=5))
    assert [r.state.status for r in rows] == ["active"]


def test_reopening_does_not_revive_grants_and_new_requests_are_needed(app, now):
    acct = account("tkat", now=now)
    old = granted("staff", "tkat", acct, now=now)
    admin = demo_user("admin", "tkat")
    services.set_account_status(admin, acct, "closed", now=now + timedelta(days=1))
    services.set_account_status(admin, acct, "active", now=now + timedelta(days=2))
    db.session.commit()
    later = now + timedelta(days=3)
    assert grant_state(old, now).active
    assert grant_state(old, later).status == "closed"
    request = join("staff", "tkat", acct, now=later)  # not "already administrator": the old grant has ended
    comms = demo_user("comms", "tkat")
    services.decide(comms, request, step=0, approve=True, comment="", now=later)
    new = request.grant
    assert grant_state(new, later).active and grant_state(old, later).status == "closed"
    services.set_account_status(admin, acct, "closed", now=later + timedelta(days=1))
    assert grant_state(new, later + timedelta(days=1)).since == later + timedelta(days=1)
    assert grant_state(old, later + timedelta(days=1)).since == now + timedelta(days=1)  # its own closure


def test_a_closed_account_cannot_be_approved_for(app, now):
    acct = account("tkat", now=now)
    certify(demo_user("staff", "tkat"), now)
    request = join("staff", "tkat", acct, now=now)
    services.set_account_status(demo_user("admin", "tkat"), acct, "closed", now=now + timedelta(hours=1))
    with pytest.raises(services.AccessError, match="has been closed"):
        services.decide(demo_user("comms", "tkat"), request, step=0, approve=True, comment="",
                        now=now + timedelta(hours=2))
    assert request.status == "pending" and request.grant is None


def test_withdrawing_a_new_account_request_records_who_closed_it(app, now):
    staff = demo_user("staff", "tkat")
    request = services.request_new_account(
        staff, platform="instagram", handle="@np_drama", academy=staff.academy, purpose="Drama",
        role="administrator", reason="Show rehearsals", answers={}, now=now)
    services.withdraw(staff, request, now=now + timedelta(hours=1))
    db.session.commit()
    closure = db.session.scalar(select(AccountClosure).where(AccountClosure.account_id == request.account_id))
    assert request.account.status == "closed" and (closure.actor_id, closure.created_at) == (
        staff.id, now + timedelta(hours=1))
    assert verify_ledger(staff.trust_id).ok


def test_migration_records_a_closure_for_accounts_already_closed(app, now):
    acct = account("tkat", now=now)
    grant = granted("staff", "tkat", acct, now=now)
    db.session.commit()
    ids = (acct.id, grant.id, acct.trust_id)
    db.session.remove()
    downgrade(revision="0008")
    closed_at = now + timedelta(days=4)
    db.session.execute(sa.text("UPDATE official_account SET status = 'closed', status_changed_at = :at WHERE id = :id"),
                       {"at": closed_at, "id": ids[0]})
    db.session.commit()
    db.session.remove()
    upgrade()
    closure = db.session.scalar(select(AccountClosure).where(AccountClosure.account_id == ids[0]))
    assert (closure.actor_id, closure.created_at) == (None, closed_at)
    assert verify_ledger(ids[2]).ok
    grant = queries.grant_in_trust(ids[2], ids[1])
    assert grant_state(grant, closed_at - timedelta(seconds=1)).active
    assert grant_state(grant, closed_at).status == "closed"
