"""The security event log: sign-ins, lockouts, password and two-step changes, role changes, exports, erasures.

Every event is written twice: as a JSON line to the `policypass.security` logger (for the operator's log
store), and as a SecurityEvent row that the trust administrator reads at /security/events.

Two ways to record one, by what the event describes:
- `record_event`: a change the caller commits (a password change, a role change). The row is added to the
  caller's transaction, so it exists exactly when the change does.
- `note_event`: a refusal or a read (a failed sign-in, a download). Inside a request the row is kept until the
  request ends, then written in its own transaction — so it is stored even though the request commits
  nothing, and a read-only request never has to upgrade its transaction to a write. Outside a request it
  joins the caller's transaction like `record_event`.
"""

from datetime import UTC, datetime

from flask import current_app, g, has_request_context, request

from modules.core.extensions import db
from modules.core.logs import request_id, security_logger
from modules.people.models import SecurityEvent, User

#: Every kind of event, with the label the log page shows. Callers must use one of these.
EVENT_KINDS: dict[str, str] = {
    "sign-in": "Sign-in",
    "sign-in-locked": "Sign-in locked (too many attempts)",
    "sign-out": "Sign-out",
    "sso-linked": "Single sign-on linked to an account",
    "two-step-check": "Two-step verification code at sign-in",
    "two-step-enrolled": "Two-step verification set up",
    "two-step-disabled": "Two-step verification turned off",
    "recovery-codes-issued": "New recovery codes",
    "password-set": "Password set from an invitation",
    "password-changed": "Password changed",
    "password-reset-requested": "Password reset asked for",
    "password-reset": "Password reset",
    "role-changed": "Roles changed",
    "export": "Export downloaded",
    "evidence-pack": "Evidence pack downloaded",
    "erasure": "Personal data erased (or erasure refused)",
    "legal-hold": "Legal hold placed or lifted",
    "lti-launch": "Launch from a learning platform (LTI)",
    "lti-platform-registered": "Learning platform registered",
    "lti-roster-sync": "Course roster synced from a learning platform",
    "quiz-question": "Quiz question written, changed or removed",
    "quiz-question-reviewed": "Quiz question reviewed (or review refused)",
    "quiz-clause-excluded": "Clause left out of the quiz (or put back)",
    "quiz-bank-imported": "Quiz bank imported from a file",
    "platform-admin-created": "Platform administrator added",
    "trust-created": "Trust set up by a platform administrator",
    "academy-added": "Academy added",
    "trust-admin-invited": "A trust's first administrator invited",
    "rules-changed": "Trust rules changed",
    "trust-imported": "Trust loaded from a trusts.yaml file",
    "rules-loaded-from-file": "Trust rules replaced from trusts.yaml (content sync --rules-from-file)",
}

#: Outcomes the log page can filter on.
OUTCOMES = ("success", "failure")


class UnknownEventKind(ValueError):
    """An event kind not declared in EVENT_KINDS."""


def _event(kind: str, *, now: datetime, actor: User | None, trust_id: int | None, target_user: User | None,
           target: str, outcome: str, details: dict | None) -> SecurityEvent:
    if kind not in EVENT_KINDS:
        raise UnknownEventKind(kind)
    if trust_id is None:
        trust_id = actor.trust_id if actor is not None else target_user.trust_id if target_user is not None else None
    event = SecurityEvent(
        occurred_at=now, kind=kind, outcome=outcome, trust_id=trust_id,
        actor_id=actor.id if actor is not None else None,
        target_user_id=target_user.id if target_user is not None else None,
        target=(target or "")[:300], request_id=request_id(),
        ip_address=request.remote_addr if has_request_context() else None, details=dict(details or {}))
    _log_line(event)
    return event


def _log_line(event: SecurityEvent) -> None:
    security_logger().info(event.kind, extra={
        "occurred_at": event.occurred_at.replace(tzinfo=UTC).isoformat(),
        "outcome": event.outcome, "trust_id": event.trust_id, "actor_id": event.actor_id,
        "target_user_id": event.target_user_id, "target": event.target, "request_id": event.request_id,
        "ip": event.ip_address, "details": event.details,
    })


def record_event(kind: str, *, now: datetime, actor: User | None = None, trust_id: int | None = None,
                 target_user: User | None = None, target: str = "", outcome: str = "success",
                 details: dict | None = None) -> SecurityEvent:
    """Log a change the caller is about to commit: a JSON line now, a row in the caller's transaction."""
    event = _event(kind, now=now, actor=actor, trust_id=trust_id, target_user=target_user, target=target,
                   outcome=outcome, details=details)
    db.session.add(event)
    db.session.flush()
    return event


def note_event(kind: str, *, now: datetime, actor: User | None = None, trust_id: int | None = None,
               target_user: User | None = None, target: str = "", outcome: str = "success",
               details: dict | None = None) -> SecurityEvent:
    """Log a refusal or a read: a JSON line now, a row stored when the request ends (in its own transaction)."""
    event = _event(kind, now=now, actor=actor, trust_id=trust_id, target_user=target_user, target=target,
                   outcome=outcome, details=details)
    if has_request_context():
        g.setdefault("security_events", []).append(event)
    else:
        db.session.add(event)
        db.session.flush()
    return event


def store_noted(_exc=None) -> None:
    """Write the events noted during the request, after it, in a transaction of their own."""
    events = g.pop("security_events", None)
    if not events:
        return
    try:
        db.session.rollback()  # the request's own work is committed by its view, or was abandoned
        db.session.add_all(events)
        db.session.commit()
    except Exception:  # the log line is already out; a failed row must not turn a response into an error
        current_app.logger.exception("storing %d security events failed", len(events))
        db.session.rollback()
