"""Access use-cases: accounts, requests, decisions, grants, removals, "training discussed" and the lapse sweep.

Plain functions with explicit arguments (`now` included); they add and flush, the caller commits once.
Grants are never given a status: whether one is active is derived from its certificate and the dated
removals and account closures (status.py).
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select

from modules.access import queries
from modules.access.models import (
    ACCOUNT_STATUSES,
    APPROVE,
    APPROVED,
    CLOSED,
    PENDING,
    PROPOSED,
    REFUSE,
    REFUSED,
    WITHDRAWN,
    AccessDecision,
    AccessGrant,
    AccessRequest,
    AccessRevocation,
    AccountClosure,
    LapseObservation,
    OfficialAccount,
    TrainingDiscussion,
    TrainingDiscussionNote,
)
from modules.access.models import ACTIVE as ACCOUNT_ACTIVE
from modules.access.rules import (
    ACCOUNT_ROLES,
    JOIN,
    NEW_ACCOUNT,
    Shortfall,
    describe_shortfalls,
    minimum_basis,
    shortfalls,
)
from modules.access.status import LAPSED, REASON_TEXT, grant_state
from modules.certificates.links import absolute
from modules.core.extensions import db
from modules.core.timeutil import format_date
from modules.evidence.ledger import lock_trust
from modules.evidence.records import record
from modules.notifications.services import queue_email
from modules.people.models import Academy, Trust, User
from modules.people.rules import ForbiddenRule, RequestForm, Step

#: Why someone keeping the register removed a grant (fixed choices: the revocation row holds no free text).
REVOCATION_REASONS = {
    "no_longer_needed": "No longer needs access",
    "changed_role": "Changed role",
    "account_closed": "Account closed or handed over",
    "concern": "A concern was raised",
}
TEXT_MAX = 2000
#: Ledger entry kinds written by the access package.
KIND_GRANTED, KIND_REVOKED = "access_granted", "access_revoked"
KIND_LAPSE, KIND_DISCUSSED = "access_lapse_observed", "training_discussed"
KIND_CLOSED, KIND_DECIDED = "account_closed", "access_decided"
HANDLE_MAX = 300


class AccessError(ValueError):
    """A use-case refused; `message` is for the person, `field` names the form field it concerns."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


class ForbiddenRequest(AccessError):
    """The trust's policy forbids this; carries the rule and the quoted clause."""

    def __init__(self, trust: Trust, rule: ForbiddenRule):
        self.rule = rule
        self.quotes = queries.quotes(trust.id, [rule.clause])
        text = rule.message or f"{trust.short_name}'s policy does not allow this (clause {rule.clause})"
        if self.quotes:
            text += f": “{self.quotes[0].text}”"
        super().__init__(text, field="platform")


class StaleDecision(AccessError):
    """The form decided a step that is no longer waiting (a replay, or someone was quicker): nothing changed."""


class BelowMinimum(AccessError):
    """The account would have fewer people than the trust's minimums; the message says what is missing and
    quotes the clause (or says it is a trust setting)."""

    def __init__(self, trust: Trust, found: list[Shortfall], lead: str, field: str | None = None):
        self.shortfalls = found
        rules = trust.rules
        roles = [role for item in found for role in item.roles]
        super().__init__(f"{lead} {describe_shortfalls(rules, found)}. "
                         f"{trust.short_name} {minimum_basis(rules, roles, trust.name)}.", field)


class NoValidCertificate(AccessError):
    """Approval needs the requester to hold a valid certificate for the current policy version."""


# ---- helpers -----------------------------------------------------------------------------------------


def _text(value: str | None, field: str, label: str, *, required: bool = True, limit: int = TEXT_MAX) -> str:
    value = (value or "").strip()
    if required and not value:
        raise AccessError(f"Enter {label}", field)
    if len(value) > limit:
        raise AccessError(f"{label[0].upper()}{label[1:]} must be {limit} characters or fewer", field)
    return value


def check_forbidden(trust: Trust, *, platform: str, kind: str, role: str | None = None) -> None:
    """Raise ForbiddenRequest when the trust's rules forbid this platform / kind / role."""
    rules = trust.rules
    known = rules.platform(platform)
    rule = rules.forbidding({"platform": platform, "platform_kind": known.kind if known else None,
                             "kind": kind, "role": role})
    if rule is not None:
        raise ForbiddenRequest(trust, rule)


def _platform(trust: Trust, key: str | None) -> str:
    if not key or trust.rules.platform(key) is None:
        raise AccessError("Choose a platform from the list", "platform")
    return key


def _academy(trust: Trust, academy: Academy | None) -> Academy | None:
    if academy is not None and academy.trust_id != trust.id:
        raise AccessError("Choose one of your trust's academies, or the central team", "owner")
    return academy


# ---- accounts ----------------------------------------------------------------------------------------


def register_account(actor: User, *, platform: str, handle: str, academy: Academy | None, purpose: str,
                     status: str, now: datetime) -> OfficialAccount:
    """Someone keeping the register records an official account (proposed or active)."""
    trust = actor.trust
    if not queries.holds(actor, "register:manage", academy.id if academy else None):
        raise AccessError("You cannot register accounts for that academy", "owner")
    platform = _platform(trust, platform)
    _academy(trust, academy)
    handle = _text(handle, "handle", "the handle or web address", limit=HANDLE_MAX)
    purpose = _text(purpose, "purpose", "what the account is for")
    if status not in (PROPOSED, ACCOUNT_ACTIVE):
        raise AccessError("Choose proposed or active", "status")
    check_forbidden(trust, platform=platform, kind="register")
    if status == ACCOUNT_ACTIVE:
        found = shortfalls(trust.rules.minimums, {})
        if found:
            raise BelowMinimum(trust, found, "A new account has nobody approved on it yet, so register it as "
                               "proposed and mark it active once enough people are approved. It has", field="status")
    lock_trust(trust.id)
    _unique_handle(trust, platform, handle)
    account = OfficialAccount(trust_id=trust.id, academy_id=academy.id if academy else None, platform=platform,
                              handle=handle, purpose=purpose, status=status, created_by_id=actor.id,
                              created_at=now, status_changed_at=now)
    db.session.add(account)
    db.session.flush()
    return account


def _unique_handle(trust: Trust, platform: str, handle: str) -> None:
    clash = db.session.scalar(select(OfficialAccount.id).where(
        OfficialAccount.trust_id == trust.id, OfficialAccount.platform == platform,
        func.lower(OfficialAccount.handle) == handle.lower(), OfficialAccount.status != CLOSED).limit(1))
    if clash is not None:
        raise AccessError("That account is already on the register: ask to join it instead", "handle")


def set_account_status(actor: User, account: OfficialAccount, status: str, *, now: datetime) -> None:
    """Mark an account proposed, active or closed (closing ends every grant on it, for good; a ledger event)."""
    if account.trust_id != actor.trust_id or not queries.holds(actor, "register:manage", account.academy_id):
        raise AccessError("You cannot change this account")
    if status not in ACCOUNT_STATUSES:
        raise AccessError("Choose a status", "status")
    if status == account.status:
        return
    if status == ACCOUNT_ACTIVE:
        check_forbidden(account.trust, platform=account.platform, kind="register")
        found = shortfalls(account.trust.rules.minimums, queries.active_people(
            queries.grants_of(account.trust_id, account_ids=[account.id]), now))
        if found:
            raise BelowMinimum(account.trust, found, "This account cannot become active until enough people are "
                               "approved on it. It has", field="status")
    if status == CLOSED:
        _close_account(account, actor, now)
        return
    account.status = status
    account.status_changed_at = now
    db.session.flush()


def _close_account(account: OfficialAccount, actor: User, now: datetime) -> AccountClosure:
    """Close the account and record when and by whom (append-only, ledgered): grants made before now end."""
    lock_trust(account.trust_id)
    account.status, account.status_changed_at = CLOSED, now
    closure = AccountClosure(trust_id=account.trust_id, account_id=account.id, actor_id=actor.id, created_at=now)
    db.session.add(closure)
    db.session.flush()
    record(closure, kind=KIND_CLOSED, now=now)
    for loaded in list(db.session.identity_map.values()):  # their closed_at was read before this closure
        if isinstance(loaded, AccessGrant) and loaded.account_id == account.id:
            db.session.expire(loaded, ["closed_at"])
    return closure


# ---- requests ----------------------------------------------------------------------------------------


def clean_details(form: RequestForm | None, answers: dict) -> dict:
    """Check answers to the trust's request form and return them as stored (dates as ISO strings)."""
    if form is None:
        return {}
    cleaned: dict = {}
    for item in form.fields:
        value = answers.get(item.key)
        if item.type == "choices":
            value = [v for v in (value or []) if v in item.choices]
            if item.required and not value:
                raise AccessError(f"Select at least one option for “{item.label}”", item.key)
        elif item.type == "date":
            if value is None:
                if item.required:
                    raise AccessError(f"Enter “{item.label}” as a real date", item.key)
            elif not isinstance(value, date):
                raise AccessError(f"Enter “{item.label}” as a real date", item.key)
            else:
                earlier = cleaned.get(item.after) if item.after else None
                if earlier and value.isoformat() <= earlier:
                    label = next(f.label for f in form.fields if f.key == item.after)
                    raise AccessError(f"“{item.label}” must be after “{label}”", item.key)
                value = value.isoformat()
        else:
            value = _text(value, item.key, f"“{item.label}”", required=item.required)
        if value not in (None, "", []):
            cleaned[item.key] = value
    return cleaned


def _role(role: str | None) -> str:
    if role not in ACCOUNT_ROLES:
        raise AccessError("Choose administrator, moderator or publisher", "role")
    return role


def _chain(requester: User, academy: Academy | None) -> tuple[Step, ...]:
    """The trust's approval chain, refused (nothing written) when a step has nobody who could approve it."""
    chain = requester.trust.rules.approval_chain
    if not chain:
        raise AccessError("Your trust has not said who approves these requests yet: ask your HR team")
    for step in chain:
        if not queries.step_approvers(requester, academy.id if academy else None, step):
            owner = academy.name if academy else "the central team"
            raise AccessError(f"This request cannot be made yet: nobody can approve its “{step.label}” step for "
                              f"{owner}. Ask your HR team to set up who approves it.")
    return chain


def _open(requester: User, account: OfficialAccount, kind: str, role: str, reason: str, details: dict,
          chain: tuple[Step, ...], now: datetime) -> AccessRequest:
    request = AccessRequest(trust_id=requester.trust_id, requester_id=requester.id, kind=kind,
                            account_id=account.id, role=role, reason=reason, details=details,
                            chain=[s.as_dict() for s in chain], step=0, status=PENDING, created_at=now)
    db.session.add(request)
    db.session.flush()
    _notify_approvers(request, now)
    return request


def request_join(requester: User, account: OfficialAccount, *, role: str, reason: str,
                 now: datetime) -> AccessRequest:
    """Ask to become an administrator, moderator or publisher of an existing account."""
    if account.trust_id != requester.trust_id:
        raise AccessError("Choose one of your trust's accounts", "account")
    if account.status == CLOSED:
        raise AccessError("That account is closed", "account")
    role = _role(role)
    reason = _text(reason, "reason", "why you need access")
    check_forbidden(requester.trust, platform=account.platform, kind=JOIN, role=role)
    lock_trust(requester.trust_id)  # the duplicate checks below and the insert happen as one
    if queries.open_request_for(requester, account, role) is not None:
        raise AccessError("You have already asked for this: your request is waiting for a decision", "account")
    for grant in queries.grants_of(requester.trust_id, account_ids=[account.id], user_id=requester.id):
        if grant.role == role and grant_state(grant, now).active:
            raise AccessError(f"You are already {ACCOUNT_ROLES[role].lower()} of this account", "account")
    chain = _chain(requester, account.academy)
    return _open(requester, account, JOIN, role, reason, {}, chain, now)


def request_new_account(requester: User, *, platform: str, handle: str, academy: Academy | None, purpose: str,
                        role: str, reason: str, answers: dict, now: datetime) -> AccessRequest:
    """Ask to set up a new account or site: it is proposed now and becomes active when the chain approves."""
    trust = requester.trust
    platform = _platform(trust, platform)
    role = _role(role)
    check_forbidden(trust, platform=platform, kind=NEW_ACCOUNT, role=role)
    _academy(trust, academy)
    handle = _text(handle, "handle", "the handle or web address", limit=HANDLE_MAX)
    purpose = _text(purpose, "purpose", "what the account is for")
    reason = _text(reason, "reason", "why you need it")
    details = clean_details(trust.rules.request_form, answers)
    chain = _chain(requester, academy)
    lock_trust(trust.id)  # the handle check and the insert happen as one
    _unique_handle(trust, platform, handle)
    account = OfficialAccount(trust_id=trust.id, academy_id=academy.id if academy else None, platform=platform,
                              handle=handle, purpose=purpose, status=PROPOSED, created_by_id=requester.id,
                              created_at=now, status_changed_at=now)
    db.session.add(account)
    db.session.flush()
    return _open(requester, account, NEW_ACCOUNT, role, reason, details, chain, now)


def withdraw(requester: User, request: AccessRequest, *, now: datetime) -> None:
    """The requester withdraws a pending request (a proposed account it made is closed)."""
    if request.requester_id != requester.id:
        raise AccessError("Only the person who asked can withdraw a request")
    lock_trust(request.trust_id)
    db.session.refresh(request)
    if request.status != PENDING:
        raise StaleDecision("This request has already been decided or withdrawn: nothing was changed")
    request.status, request.closed_at = WITHDRAWN, now
    _close_proposed(request, requester, now)
    db.session.flush()


def _close_proposed(request: AccessRequest, actor: User, now: datetime) -> None:
    if request.kind == NEW_ACCOUNT and request.account.status == PROPOSED:
        _close_account(request.account, actor, now)


# ---- decisions ---------------------------------------------------------------------------------------


def decide(approver: User, request: AccessRequest, *, step: int, approve: bool, comment: str | None,
           now: datetime) -> AccessDecision:
    """Approve or refuse the step waiting for a decision; the last approval grants access.

    Refused (nothing changes) when: the step posted is not the one waiting (a replayed form), the person is
    not an approver of that step, or, to approve, the account has been closed, the requester holds no valid
    certificate for the current policy version, the account is below its minimums, or a step that needs
    "training discussed" has none that counts (queries.approval_blockers, which the page uses to enable Approve).
    """
    if request.trust_id != approver.trust_id:
        raise AccessError("You cannot decide requests of another trust")
    lock_trust(request.trust_id)  # one decision at a time per trust; the re-read below sees the latest step
    db.session.refresh(request)
    if request.status != PENDING or request.step != step:
        raise StaleDecision("This step has already been decided, so nothing was changed. "
                            "The request's current state is shown below.")
    current = queries.current_step(request)
    if current is None or not any(p.id == approver.id for p in queries.approvers_for(request, current)):
        raise AccessError("You are not an approver for the step this request is waiting on")
    comment = _text(comment, "comment", "a comment explaining the refusal", required=not approve)
    requester = request.requester
    certificate = queries.current_certificate(requester, now)
    blockers = queries.approval_blockers(request, current, now) if approve else []
    if queries.CLOSED_ACCOUNT in blockers:
        raise AccessError("This account has been closed, so access to it cannot be approved. "
                          "Refuse the request instead.")
    if queries.NO_CERTIFICATE in blockers:
        raise NoValidCertificate(
            f"You cannot approve this yet: {requester.name} does not hold a valid certificate for the current "
            "version of the policy. They need to complete the training first.")
    if queries.BELOW_MINIMUM in blockers:
        _, found = queries.minimum_gate(request, now)
        final = step + 1 >= len(request.chain)
        raise BelowMinimum(request.account.trust, found, (
            "You cannot approve this yet: before the final approval, the other people on this account must "
            "have their own requests approved. With this request, it has" if final else
            "You cannot approve this yet: not enough people have asked to run the new account. It has"))
    if queries.NOT_DISCUSSED in blockers:
        clauses = ", ".join(current.clauses)
        raise AccessError(f"Record that you have discussed training with {requester.name} before approving"
                          + (f" ({clauses})" if clauses else ""), "training")
    decision = AccessDecision(request_id=request.id, step=step, approver_id=approver.id,
                              outcome=APPROVE if approve else REFUSE, comment=comment,
                              certificate_id=certificate.id if certificate else None, created_at=now)
    db.session.add(decision)
    record(decision, kind=KIND_DECIDED, now=now)
    db.session.expire(request, ["decisions"])
    if not approve:
        request.status, request.closed_at = REFUSED, now
        _close_proposed(request, approver, now)
        db.session.flush()
        _notify_requester(request, now)
        return decision
    if step + 1 < len(request.chain):
        request.step = step + 1
        db.session.flush()
        _notify_approvers(request, now)
        return decision
    request.status, request.closed_at = APPROVED, now
    if request.kind == NEW_ACCOUNT and request.account.status == PROPOSED:
        request.account.status, request.account.status_changed_at = ACCOUNT_ACTIVE, now
    grant = AccessGrant(trust_id=request.trust_id, account_id=request.account_id, user_id=requester.id,
                        role=request.role, request_id=request.id, certificate_id=certificate.id,
                        approver_ids=",".join(str(d.approver_id) for d in sorted(request.decisions,
                                                                                 key=lambda d: d.step)),
                        created_at=now)
    db.session.add(grant)
    db.session.flush()
    record(grant, kind=KIND_GRANTED, now=now)
    _notify_requester(request, now)
    return decision


# ---- grants ------------------------------------------------------------------------------------------


def shortfall_after_removal(grant: AccessGrant, now: datetime) -> list[Shortfall]:
    """What the grant's active account would lack, against the trust's minimums, once this grant is removed.

    Empty when removing it leaves the minimums met (or the grant no longer counts, or the account is not active).
    """
    account = grant.account
    if account.status != ACCOUNT_ACTIVE or not grant_state(grant, now).active:
        return []
    grants = queries.grants_of(grant.trust_id, account_ids=[account.id])
    return shortfalls(account.trust.rules.minimums, queries.active_people(grants, now, without=grant.id))


def revoke_grant(actor: User, grant: AccessGrant, *, reason: str, now: datetime,
                 accept_shortfall: bool = False) -> AccessRevocation:
    """Remove someone's access to an account, with a reason; a ledger event, and the person is told.

    When removing it takes an active account below the trust's minimums, it is refused unless the person
    confirms that shortfall (`accept_shortfall`): never silently.
    """
    if grant.trust_id != actor.trust_id or not queries.holds(actor, "register:manage", grant.account.academy_id):
        raise AccessError("You cannot remove access to this account")
    if reason not in REVOCATION_REASONS:
        raise AccessError("Choose why you are removing access", "reason")
    lock_trust(grant.trust_id)
    found = shortfall_after_removal(grant, now)
    if found and not accept_shortfall:
        raise BelowMinimum(grant.account.trust, found, "Removing this access takes the account below its minimum: "
                           "confirm that you understand. It would have", field="accept_shortfall")
    if db.session.scalar(select(AccessRevocation.id).where(AccessRevocation.grant_id == grant.id)) is not None:
        raise StaleDecision("This access has already been removed: nothing was changed")
    revocation = AccessRevocation(trust_id=grant.trust_id, grant_id=grant.id, actor_id=actor.id, reason=reason,
                                  created_at=now)
    db.session.add(revocation)
    db.session.flush()
    record(revocation, kind=KIND_REVOKED, now=now)
    db.session.expire(grant, ["removed_at", "revocation"])
    person = grant.user
    queue_email(recipient=person.email, reason=f"access-removed:{grant.id}", user=person, trust_id=grant.trust_id,
                now=now, subject=f"Your access to {_account_name(grant.account)} has been removed",
                body=(f"Dear {person.name},\n\n{actor.name} removed your access as "
                      f"{ACCOUNT_ROLES.get(grant.role, grant.role).lower()} of {_account_name(grant.account)} "
                      f"on {format_date(now)}. Reason: {REVOCATION_REASONS[reason]}.\n\nPolicyPass\n"))
    return revocation


def record_training_discussed(manager: User, person: User, *, idempotency_key: str, now: datetime,
                              request: AccessRequest | None = None, note: str | None = None) -> TrainingDiscussion:
    """The line manager records that they discussed training with a member of their team (attributed, ledgered),
    with an optional note.

    Recorded once: if a discussion already counts for the person (queries.discussion_for), or the same form is
    sent again (same key), that record is returned and nothing is written.
    """
    if person.line_manager_id != manager.id or person.trust_id != manager.trust_id:
        raise AccessError("You can only record this for people you line manage")
    if request is not None and (request.requester_id != person.id or request.trust_id != person.trust_id):
        raise AccessError("That request is not this person's")
    note = _text(note, "note", "a note", required=False)
    lock_trust(person.trust_id)
    existing = db.session.scalar(select(TrainingDiscussion).where(TrainingDiscussion.idempotency_key == idempotency_key))
    if existing is not None:
        if existing.manager_id != manager.id or existing.user_id != person.id:
            raise AccessError("This form was already used for someone else: reload the page")
        return existing
    counting = queries.discussion_for(person, now)
    if counting is not None:
        return counting
    discussion = TrainingDiscussion(trust_id=person.trust_id, user_id=person.id, manager_id=manager.id,
                                    request_id=request.id if request else None, idempotency_key=idempotency_key,
                                    created_at=now)
    db.session.add(discussion)
    db.session.flush()
    if note:
        db.session.add(TrainingDiscussionNote(discussion_id=discussion.id, user_id=person.id, text=note))
        db.session.flush()
    record(discussion, kind=KIND_DISCUSSED, now=now)
    db.session.expire(discussion, ["note"])
    return discussion


# ---- the sweep ---------------------------------------------------------------------------------------


@dataclass
class SweepReport:
    """What a sweep did: lapses newly observed (and recorded), and emails queued."""

    observed: list[LapseObservation] = field(default_factory=list)
    emails: int = 0


def sweep(*, now: datetime, trust: Trust | None = None) -> SweepReport:
    """Record a "lapse observed" ledger event for each newly lapsed grant and email its approvers.

    Idempotent: a lapse already observed (same grant and reason) is skipped. These records are evidence that
    the lapse was noticed; whether a grant is active is still derived from its certificate alone.
    """
    report = SweepReport()
    trusts = [trust] if trust is not None else list(db.session.scalars(
        select(Trust).where(Trust.platform.is_(False)).order_by(Trust.id)))
    for current in trusts:
        lock_trust(current.id)
        seen = set(db.session.execute(select(LapseObservation.grant_id, LapseObservation.reason)
                                      .where(LapseObservation.trust_id == current.id)).all())
        for grant in queries.grants_of(current.id):
            state = grant_state(grant, now)
            if state.status != LAPSED or (grant.id, state.reason) in seen:
                continue
            observation = LapseObservation(trust_id=current.id, grant_id=grant.id, reason=state.reason,
                                           certificate_id=grant.certificate_id, observed_at=now)
            db.session.add(observation)
            db.session.flush()
            record(observation, kind=KIND_LAPSE, now=now)
            report.observed.append(observation)
            report.emails += _notify_lapse(grant, observation, now)
    return report


# ---- emails ------------------------------------------------------------------------------------------


def _account_name(account: OfficialAccount) -> str:
    platform = account.trust.rules.platform(account.platform)
    return f"{platform.label if platform else account.platform} {account.handle} ({account.owner_name})"


def _notify_approvers(request: AccessRequest, now: datetime) -> None:
    step = queries.current_step(request)
    if step is None:
        return
    link = absolute("access.request_detail", request_id=request.id)
    for person in queries.approvers_for(request, step):
        queue_email(recipient=person.email, reason=f"access-request:{request.id}:{request.step}", user=person,
                    trust_id=request.trust_id, now=now,
                    subject=f"Request waiting for your decision: {request.requester.name}",
                    body=(f"Dear {person.name},\n\n{request.requester.name} has asked to be "
                          f"{ACCOUNT_ROLES.get(request.role, request.role).lower()} of "
                          f"{_account_name(request.account)}. As {step.label}, your decision is needed.\n\n"
                          f"Review it here:\n{link}\n\nPolicyPass\n"))


def _notify_requester(request: AccessRequest, now: datetime) -> None:
    person = request.requester
    outcome = "approved" if request.status == APPROVED else "refused"
    queue_email(recipient=person.email, reason=f"access-request:{request.id}:{outcome}", user=person,
                trust_id=request.trust_id, now=now,
                subject=f"Your request has been {outcome}: {_account_name(request.account)}",
                body=(f"Dear {person.name},\n\nYour request to be "
                      f"{ACCOUNT_ROLES.get(request.role, request.role).lower()} of {_account_name(request.account)} "
                      f"has been {outcome}.\n\nSee the details here:\n"
                      f"{absolute('access.request_detail', request_id=request.id)}\n\nPolicyPass\n"))


def _notify_lapse(grant: AccessGrant, observation: LapseObservation, now: datetime) -> int:
    sent = 0
    reason = REASON_TEXT.get(observation.reason, observation.reason)
    for approver_id in dict.fromkeys(grant.approver_id_list):
        person = db.session.get(User, approver_id)
        if person is None or not person.active:
            continue
        queue_email(recipient=person.email, reason=f"access-lapse:{observation.id}", user=person,
                    trust_id=grant.trust_id, now=now,
                    subject=f"Access lapsed: {grant.user.name} on {_account_name(grant.account)}",
                    body=(f"Dear {person.name},\n\nYou approved {grant.user.name} as "
                          f"{ACCOUNT_ROLES.get(grant.role, grant.role).lower()} of {_account_name(grant.account)}. "
                          f"That access has lapsed: {reason.lower()}. They should not use the account until they "
                          "hold a valid certificate and are approved again.\n\nThe register:\n"
                          f"{absolute('access.register')}\n\nPolicyPass\n"))
        sent += 1
    return sent
