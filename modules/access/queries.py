"""Read-only queries for accounts, requests, approvers, grants and the register. Every id is checked against the trust."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from modules.access.models import ACTIVE as ACCOUNT_ACTIVE
from modules.access.models import CLOSED as ACCOUNT_CLOSED
from modules.access.models import (
    PENDING,
    PROPOSED,
    AccessDecision,
    AccessGrant,
    AccessRequest,
    OfficialAccount,
    TrainingDiscussion,
)
from modules.access.rules import (
    ACCOUNT_ROLES,
    NEW_ACCOUNT,
    Shortfall,
    people_needed,
    shortfalls,
    steps_from_snapshot,
)
from modules.access.status import (
    GrantState,
    RoleHealth,
    carried_certificate,
    foreseeable_end,
    grant_state,
    role_health,
)
from modules.assessments.queries import latest_passed_attempt
from modules.attestation.queries import current_acknowledgement
from modules.certificates.models import Certificate
from modules.certificates.queries import CertificateRow, standing
from modules.certificates.status import VALID, certificate_status, london_day, utc_midnight
from modules.core.extensions import db
from modules.people.models import Academy, Trust, User
from modules.people.queries import role_holders
from modules.people.rules import Step, TrustRules
from modules.policies.models import Clause, PolicyVersion
from modules.policies.queries import base_version, register_series
from modules.training.queries import current_version, reading_progress

# ---- scope -------------------------------------------------------------------------------------------


def scope_of(user: User, capability: str) -> set[int] | None:
    """Academy ids where the person holds the capability; None means the whole trust (central team too)."""
    return user.academy_scope(capability)


def in_scope(scope: set[int] | None, academy_id: int | None) -> bool:
    """Whether an academy (None: the central team) is inside a scope from scope_of."""
    return scope is None or (academy_id is not None and academy_id in scope)


def holds(user: User, capability: str, academy_id: int | None) -> bool:
    """Whether the person holds the capability for an academy (None: the central team, which needs trust scope)."""
    return in_scope(scope_of(user, capability), academy_id) and user.can(capability)


def academies_of(trust_id: int) -> list[Academy]:
    """The trust's academies by name."""
    return list(db.session.scalars(select(Academy).where(Academy.trust_id == trust_id).order_by(Academy.name)))


def academy_in_trust(trust_id: int, academy_id: int) -> Academy | None:
    """An academy of the trust; None for another trust's or an unknown id."""
    academy = db.session.get(Academy, academy_id)
    return academy if academy is not None and academy.trust_id == trust_id else None


# ---- policy quotes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quote:
    """A clause of the trust's current policy, quoted by ref, with the module it is in."""

    ref: str
    text: str
    section_id: int | None


def quotes(trust_id: int, refs) -> list[Quote]:
    """The clauses with these refs in the trust's current policy version, in the order asked (missing refs skipped)."""
    refs = list(refs)
    version = current_version(trust_id)
    if version is None or not refs:
        return []
    found = {c.ref: c for c in db.session.scalars(
        select(Clause).where(Clause.version_id == version.id, Clause.ref.in_(refs)).order_by(Clause.position))}
    return [Quote(ref, found[ref].text, found[ref].section_id) for ref in refs if ref in found]


# ---- training and certificates -----------------------------------------------------------------------


def _valid_certificates(user: User, version: PolicyVersion, now: datetime) -> list[Certificate]:
    certs = db.session.scalars(select(Certificate).where(
        Certificate.user_id == user.id, Certificate.trust_id == user.trust_id, Certificate.version_id == version.id)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc()))
    return [c for c in certs if certificate_status(c, now) == VALID]


def current_certificate(user: User, now: datetime) -> Certificate | None:
    """The person's newest certificate that is valid at `now` for their trust's current policy version."""
    version = current_version(user.trust_id)
    if version is None:
        return None
    valid = _valid_certificates(user, version, now)
    return valid[0] if valid else None


def latest_certificate(user: User) -> Certificate | None:
    """The person's most recently issued certificate of their trust's register policy, whatever its status."""
    query = select(Certificate).where(Certificate.user_id == user.id, Certificate.trust_id == user.trust_id)
    series = register_series(user.trust_id)
    if series is not None:  # the register's policy only (see current_version)
        query = query.join(PolicyVersion, PolicyVersion.id == Certificate.version_id).where(
            PolicyVersion.series_id == series.id)
    return db.session.scalar(query
                             .order_by(Certificate.issued_at.desc(), Certificate.id.desc()).limit(1))


@dataclass
class TrainingSummary:
    """What an approver or line manager needs to know about a person's training, at one moment."""

    version: PolicyVersion | None
    modules_read: int = 0
    modules_total: int = 0
    quiz_passed: bool = False
    acknowledged: bool = False
    certificate: Certificate | None = None
    certificate_status: str | None = None
    #: That certificate's standing now (a supersession already due, while it is valid).
    standing: CertificateRow | None = None
    #: A certificate valid now for the current version (what approval needs).
    valid_certificate: Certificate | None = None
    #: The "training discussed" record that counts now (discussion_for), with its note.
    discussion: TrainingDiscussion | None = None
    #: The version a new discussion is needed for (it replaced an earlier one), if any (discussion_window).
    discussion_needed_for: PolicyVersion | None = None
    discussed_at: datetime | None = None
    discussed_by: User | None = None

    @property
    def label(self) -> str:
        """One-line training status."""
        if self.valid_certificate is not None:
            return "Certificate valid"
        if self.acknowledged:
            return "Acknowledged"
        if self.quiz_passed:
            return "Quiz passed"
        if self.modules_read:
            return f"Read {self.modules_read} of {self.modules_total} modules"
        return "Not started"


def training_summary(user: User, now: datetime) -> TrainingSummary:
    """The person's training status at `now`, with the "training discussed" record that counts (discussion_for)."""
    version = current_version(user.trust_id)
    summary = TrainingSummary(version=version)
    if version is not None:
        summary.modules_read, summary.modules_total = reading_progress(user, version)
        summary.quiz_passed = latest_passed_attempt(user, version) is not None
        summary.acknowledged = current_acknowledgement(user.id, version.id) is not None
        summary.valid_certificate = current_certificate(user, now)
    summary.certificate = summary.valid_certificate or latest_certificate(user)
    if summary.certificate is not None:
        summary.standing = standing(summary.certificate, now)
        summary.certificate_status = summary.standing.status
    summary.discussion = discussion_for(user, now)
    window = discussion_window(user)
    summary.discussion_needed_for = window[0] if window else None
    if summary.discussion is not None:
        summary.discussed_at, summary.discussed_by = summary.discussion.created_at, summary.discussion.manager
    return summary


def discussion_window(user: User) -> tuple[PolicyVersion, datetime] | None:
    """From when a "training discussed" record counts: the start of the (London) day the version in force was
    published, when it replaced an earlier version (a new version needs a new discussion); None: any counts."""
    version = current_version(user.trust_id)
    if version is None or version.published_at is None or base_version(version) is None:
        return None
    return version, utc_midnight(london_day(version.published_at))


def discussion_for(user: User, now: datetime) -> TrainingDiscussion | None:
    """The "training discussed" record that counts for the person at `now`: the first one recorded within
    `discussion_window`. This one answer is shown on the team page and on every request of theirs, and is what
    approval checks."""
    query = select(TrainingDiscussion).options(selectinload(TrainingDiscussion.note)).where(
        TrainingDiscussion.user_id == user.id, TrainingDiscussion.trust_id == user.trust_id,
        TrainingDiscussion.created_at <= now)
    window = discussion_window(user)
    if window is not None:
        query = query.where(TrainingDiscussion.created_at >= window[1])
    return db.session.scalar(query.order_by(TrainingDiscussion.created_at, TrainingDiscussion.id).limit(1))


#: What can stop an approval (approval_blockers), in the order decide() reports them.
CLOSED_ACCOUNT, NO_CERTIFICATE, BELOW_MINIMUM, NOT_DISCUSSED = "closed", "certificate", "minimum", "discussed"


def approval_blockers(request: AccessRequest, step: Step, now: datetime) -> list[str]:
    """What stops `step` of the request being approved at `now`; empty exactly when approving will succeed
    (services.decide checks this same list, so the page enables Approve only when it will work)."""
    blockers = []
    if request.account.status == ACCOUNT_CLOSED:
        blockers.append(CLOSED_ACCOUNT)
    if current_certificate(request.requester, now) is None:
        blockers.append(NO_CERTIFICATE)
    if minimum_gate(request, now)[1]:
        blockers.append(BELOW_MINIMUM)
    if step.requires_training_discussed and discussion_for(request.requester, now) is None:
        blockers.append(NOT_DISCUSSED)
    return blockers


# ---- accounts ----------------------------------------------------------------------------------------


def account_in_trust(trust_id: int, account_id: int) -> OfficialAccount | None:
    """An account of the trust; None for another trust's or an unknown id."""
    account = db.session.get(OfficialAccount, account_id)
    return account if account is not None and account.trust_id == trust_id else None


def accounts_of(trust_id: int, scope: set[int] | None = None) -> list[OfficialAccount]:
    """The trust's accounts (within an academy scope if given), central team first, then by academy and platform."""
    query = select(OfficialAccount).where(OfficialAccount.trust_id == trust_id).options(
        selectinload(OfficialAccount.academy))
    if scope is not None:
        query = query.where(OfficialAccount.academy_id.in_(scope))
    accounts = list(db.session.scalars(query))
    return sorted(accounts, key=lambda a: (a.academy is not None, a.owner_name, a.platform, a.handle.lower()))


def grants_of(trust_id: int, *, account_ids=None, user_id: int | None = None) -> list[AccessGrant]:
    """Grants of the trust (optionally of some accounts or one person), oldest first, with what status needs."""
    query = select(AccessGrant).where(AccessGrant.trust_id == trust_id).options(
        selectinload(AccessGrant.user), selectinload(AccessGrant.account).selectinload(OfficialAccount.academy),
        selectinload(AccessGrant.certificate).selectinload(Certificate.trust),
        selectinload(AccessGrant.certificate).selectinload(Certificate.renewal))
    if account_ids is not None:
        query = query.where(AccessGrant.account_id.in_(list(account_ids)))
    if user_id is not None:
        query = query.where(AccessGrant.user_id == user_id)
    return list(db.session.scalars(query.order_by(AccessGrant.created_at, AccessGrant.id)))


def grant_in_trust(trust_id: int, grant_id: int) -> AccessGrant | None:
    """A grant of the trust; None for another trust's or an unknown id."""
    grant = db.session.get(AccessGrant, grant_id)
    return grant if grant is not None and grant.trust_id == trust_id else None


@dataclass
class AccountHealth:
    """An account's standing against the trust's minimums, per role that has one."""

    roles: list[RoleHealth] = field(default_factory=list)
    #: Every way the account's active people fall short now (one person counts once), for "who to add".
    shortfalls: list[Shortfall] = field(default_factory=list)
    #: Whether the account is active (a proposed account's shortfalls say what it needs, but are not flagged).
    active: bool = True

    @property
    def to_add(self) -> int:
        """The fewest extra people that would meet every minimum now."""
        return people_needed(self.shortfalls)

    @property
    def below(self) -> list[RoleHealth]:
        """Roles with fewer active holders than required now."""
        return [r for r in self.roles if r.below]

    @property
    def falling(self) -> list[RoleHealth]:
        """Roles that will fall below the minimum within the warning window."""
        return [r for r in self.roles if r.falling]

    @property
    def shared(self) -> list[Shortfall]:
        """Shortfalls only because one person holds two roles (they count once)."""
        return [s for s in self.shortfalls if len(s.roles) > 1]

    @property
    def flagged(self) -> bool:
        """Whether anything needs attention."""
        return self.active and bool(self.below or self.falling or self.shortfalls)


def account_health(account: OfficialAccount, grants: list[AccessGrant], rules: TrustRules,
                   now: datetime) -> AccountHealth:
    """How an active account stands against the trust's minimum administrators and moderators at `now`."""
    health = AccountHealth(active=account.status == ACCOUNT_ACTIVE)
    if account.status == PROPOSED:
        health.shortfalls = shortfalls(rules.minimums, active_people(
            [g for g in grants if g.account_id == account.id], now))
    if not health.active:
        return health
    for role, required in rules.minimums.items():
        if required:
            health.roles.append(role_health(role, required, [g for g in grants if g.role == role and
                                                             g.account_id == account.id], now, rules.register_warning_days))
    health.shortfalls = shortfalls(rules.minimums, active_people(
        [g for g in grants if g.account_id == account.id], now))
    return health


def active_people(grants: list[AccessGrant], now: datetime, *, without: int | None = None) -> dict[str, set[int]]:
    """Who holds each role through a grant active at `now` (role → person ids), leaving out grant `without`."""
    people: dict[str, set[int]] = {}
    for grant in grants:
        if grant.id != without and grant_state(grant, now).active:
            people.setdefault(grant.role, set()).add(grant.user_id)
    return people


@dataclass
class TeamMember:
    """Someone who holds, or has asked for, a role on an account: with their grant or their pending request."""

    person: User
    role: str
    grant: AccessGrant | None = None
    request: AccessRequest | None = None


@dataclass
class Team:
    """The people lined up for an account against the trust's minimums, as a request's approvers see them."""

    members: list[TeamMember]
    #: What is missing counting granted people and pending requests (every step but the last).
    lined_up: list[Shortfall]
    #: What is missing counting granted people only, plus the request being decided (the last step).
    granted: list[Shortfall]

    def holders(self, role: str) -> list[TeamMember]:
        """Members for one role."""
        return [m for m in self.members if m.role == role]


def team_for(request: AccessRequest, now: datetime) -> Team:
    """The account's team as it stands for this request: active grants, pending requests (this one included)."""
    rules = request.account.trust.rules
    grants = [g for g in grants_of(request.trust_id, account_ids=[request.account_id]) if grant_state(g, now).active]
    pending = [r for r in db.session.scalars(select(AccessRequest).where(
        AccessRequest.account_id == request.account_id, AccessRequest.status == PENDING)
        .options(selectinload(AccessRequest.requester)).order_by(AccessRequest.created_at, AccessRequest.id))]
    members = [TeamMember(g.user, g.role, grant=g) for g in grants]
    members += [TeamMember(r.requester, r.role, request=r) for r in pending]
    granted = active_people(grants, now)
    if request.status == PENDING:
        granted.setdefault(request.role, set()).add(request.requester_id)
    lined_up: dict[str, set[int]] = {}
    for member in members:
        lined_up.setdefault(member.role, set()).add(member.person.id)
    return Team(members, shortfalls(rules.minimums, lined_up), shortfalls(rules.minimums, granted))


def minimum_gate(request: AccessRequest, now: datetime) -> tuple[Team | None, list[Shortfall]]:
    """For a request that would make a proposed account active: the team and what keeps its current step
    from being approved (empty when nothing does). (None, []) for every other request."""
    if request.kind != NEW_ACCOUNT or request.status != PENDING or request.account.status != PROPOSED:
        return None, []
    rules = request.account.trust.rules
    if not any(rules.minimums.values()):
        return None, []
    team = team_for(request, now)
    final = request.step + 1 >= len(request.chain)
    return team, (team.granted if final else team.lined_up)


@dataclass
class AccountRow:
    """An account with its grants' states and its health, for lists and the register."""

    account: OfficialAccount
    grants: list[tuple[AccessGrant, GrantState]]
    health: AccountHealth

    def active_count(self, role: str) -> int:
        """Active holders of a role (people: one person counts once)."""
        return len({g.user_id for g, s in self.grants if g.role == role and s.active})


def account_rows(trust: Trust, now: datetime, scope: set[int] | None = None,
                 accounts: list[OfficialAccount] | None = None) -> list[AccountRow]:
    """Accounts (of the trust, within scope) with their grants' states and health at `now`."""
    accounts = accounts if accounts is not None else accounts_of(trust.id, scope)
    grants = grants_of(trust.id, account_ids=[a.id for a in accounts]) if accounts else []
    rules = trust.rules
    rows = []
    for account in accounts:
        mine = [g for g in grants if g.account_id == account.id]
        rows.append(AccountRow(account, [(g, grant_state(g, now)) for g in mine],
                               account_health(account, mine, rules, now)))
    return rows


# ---- requests and approvers --------------------------------------------------------------------------


def request_in_trust(trust_id: int, request_id: int) -> AccessRequest | None:
    """A request of the trust; None for another trust's or an unknown id."""
    found = db.session.get(AccessRequest, request_id)
    return found if found is not None and found.trust_id == trust_id else None


def chain_of(request: AccessRequest) -> tuple[Step, ...]:
    """The request's approval chain, as it stood when the request was made."""
    return steps_from_snapshot(request.chain)


def current_step(request: AccessRequest) -> Step | None:
    """The step waiting for a decision, if the request is pending."""
    chain = chain_of(request)
    if request.status != PENDING or request.step >= len(chain):
        return None
    return chain[request.step]


def approvers_for(request: AccessRequest, step: Step) -> list[User]:
    """Who may decide this step of this request now: never the requester, never someone who has left."""
    return step_approvers(request.requester, request.account.academy_id, step)


def step_approvers(requester: User, academy_id: int | None, step: Step) -> list[User]:
    """Who may decide a step of the person's request on an academy's account (None: the central team's)."""
    trust_id = requester.trust_id
    people: list[User] = []
    if step.relation == "line_manager":
        if requester.line_manager is not None:
            people = [requester.line_manager]
    elif step.role:
        key = step.central_role if (academy_id is None and step.central_role) else step.role
        people = role_holders(trust_id, key, academy_id)
    return [p for p in people if p.active and p.id != requester.id and p.trust_id == trust_id]


def may_decide(user: User, request: AccessRequest) -> bool:
    """Whether the person may decide the request's current step."""
    step = current_step(request)
    return step is not None and any(p.id == user.id for p in approvers_for(request, step))


def may_view(user: User, request: AccessRequest) -> bool:
    """Requester, their line manager, anyone in its chain, and people who see the register for the account."""
    if request.trust_id != user.trust_id:
        return False
    if user.id in (request.requester_id, request.requester.line_manager_id):
        return True
    if any(d.approver_id == user.id for d in request.decisions):
        return True
    if holds(user, "register:view", request.account.academy_id):
        return True
    return any(any(p.id == user.id for p in approvers_for(request, step)) for step in chain_of(request))


def requests_of(user: User) -> list[AccessRequest]:
    """The person's own requests, newest first."""
    return list(db.session.scalars(select(AccessRequest).where(
        AccessRequest.requester_id == user.id, AccessRequest.trust_id == user.trust_id)
        .options(selectinload(AccessRequest.account)).order_by(AccessRequest.created_at.desc(),
                                                               AccessRequest.id.desc())))


def pending_requests(trust_id: int) -> list[AccessRequest]:
    """The trust's pending requests, oldest first."""
    return list(db.session.scalars(select(AccessRequest).where(
        AccessRequest.trust_id == trust_id, AccessRequest.status == PENDING)
        .options(selectinload(AccessRequest.account), selectinload(AccessRequest.requester))
        .order_by(AccessRequest.created_at, AccessRequest.id)))


def waiting_on(user: User) -> list[AccessRequest]:
    """Pending requests whose current step the person may decide."""
    return [r for r in pending_requests(user.trust_id) if may_decide(user, r)]


def decided_by(user: User, limit: int = 20) -> list[AccessRequest]:
    """Requests the person has decided a step of, most recent first."""
    ids = db.session.scalars(select(AccessDecision.request_id).where(AccessDecision.approver_id == user.id)
                             .order_by(AccessDecision.created_at.desc()).limit(limit))
    found = {r.id: r for r in db.session.scalars(select(AccessRequest).where(
        AccessRequest.id.in_(list(ids)), AccessRequest.trust_id == user.trust_id))}
    return sorted(found.values(), key=lambda r: r.created_at, reverse=True)


def open_request_for(user: User, account: OfficialAccount, role: str) -> AccessRequest | None:
    """The person's pending request for this account and role, if any."""
    return db.session.scalar(select(AccessRequest).where(
        AccessRequest.requester_id == user.id, AccessRequest.account_id == account.id,
        AccessRequest.role == role, AccessRequest.status == PENDING).limit(1))


# ---- line manager ------------------------------------------------------------------------------------


def team_of(manager: User) -> list[User]:
    """The manager's direct reports who have not left, by name."""
    return list(db.session.scalars(select(User).where(User.line_manager_id == manager.id, User.active.is_(True),
                                                      User.trust_id == manager.trust_id).order_by(User.name)))


def report_of(manager: User, user_id: int) -> User | None:
    """One of the manager's direct reports; None for anyone else (shown as 404)."""
    person = db.session.get(User, user_id)
    if person is None or person.line_manager_id != manager.id or person.trust_id != manager.trust_id:
        return None
    return person


# ---- register ----------------------------------------------------------------------------------------


@dataclass
class RegisterRow:
    """One grant on the register, with its state at the time asked."""

    grant: AccessGrant
    state: GrantState
    approvers: list[str]
    #: The certificate the grant stands on (the one it cites, or a renewal made in time).
    certificate: Certificate
    #: When an active grant will lapse with nothing else happening, if that is because a new policy version
    #: superseded its certificate (so the register can say so before it happens).
    lapses_at: datetime | None = None
    #: The certificate's own standing at the time asked (for an active grant: a supersession already due).
    standing: CertificateRow | None = None

    @property
    def role_label(self) -> str:
        """The account role as shown."""
        return ACCOUNT_ROLES.get(self.grant.role, self.grant.role)


def register_rows(trust: Trust, now: datetime, scope: set[int] | None = None,
                  academy_id: int | None = None, central: bool = False) -> list[RegisterRow]:
    """Every grant on accounts within scope (optionally one academy's, or the central team's), active first."""
    accounts = accounts_of(trust.id, scope)
    if academy_id is not None:
        accounts = [a for a in accounts if a.academy_id == academy_id]
    elif central:
        accounts = [a for a in accounts if a.academy_id is None]
    grants = grants_of(trust.id, account_ids=[a.id for a in accounts]) if accounts else []
    names = dict(db.session.execute(select(User.id, User.name).where(User.trust_id == trust.id)).all())
    rows = []
    for grant in grants:
        state, cert = grant_state(grant, now), carried_certificate(grant, now)
        lapses_at = None
        if state.active and cert.superseded_since is not None:
            lapses_at = foreseeable_end(grant, now)
        rows.append(RegisterRow(grant, state, [names.get(i, "(unknown)") for i in grant.approver_id_list], cert,
                                lapses_at, standing(cert, now) if lapses_at is not None else None))
    return sorted(rows, key=lambda r: (not r.state.active, r.grant.user.name.lower(), r.grant.account.owner_name,
                                       r.grant.account.handle.lower()))
