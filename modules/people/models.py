"""Trust, Academy, Role, User and the server-side login sessions."""

import copy
import threading
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, event, exists, false, select
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from modules.core.capabilities import LINE_MANAGER_CAPABILITIES
from modules.core.extensions import db
from modules.people.rules import TrustRules


class Trust(db.Model):
    """A multi-academy trust: the boundary of every query."""

    id: Mapped[int] = mapped_column(primary_key=True)
    #: URL-safe key from trusts.yaml, e.g. "e-act".
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    #: Full name, e.g. "The Kemnal Academies Trust".
    name: Mapped[str] = mapped_column(String(200))
    #: Short name used in the interface, e.g. "TKAT".
    short_name: Mapped[str] = mapped_column(String(40))
    #: The trust's own `rules:` mapping from trusts.yaml, as validated by `flask content sync`; read it as
    #: `trust.rules` (modules/people/rules.py holds every rule's type and default).
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    #: True only for the platform's own trust, whose people are the platform administrators (role
    #: `platform_admin`): it holds no staff, academies or policy, and is left out of every list of trusts.
    platform: Mapped[bool] = mapped_column(default=False, server_default=false())

    academies: Mapped[list["Academy"]] = relationship(back_populates="trust", order_by="Academy.name")

    @property
    def rules(self) -> TrustRules:
        """The trust's typed rules (defaults filled in); parsed once per trust and stored mapping, in this process."""
        return rules_for(self.id, self.settings or {})


#: Parsed rules per trust id, shared by every request of this process: (a private copy of the mapping they were
#: parsed from, the rules). A request loads the trust row afresh, so caching on the row would parse every request.
_RULES: dict[int | None, tuple[dict, TrustRules]] = {}
_RULES_LOCK = threading.Lock()


def rules_for(trust_id: int | None, settings: dict) -> TrustRules:
    """The TrustRules for this trust's stored mapping, parsed once while the mapping stays the same.

    The cached rules are used only when the mapping is equal to the one they were parsed from, so an edited
    mapping (the rules editor, `flask content sync`, another process) is re-parsed on its next read even if
    nobody calls forget_trust_rules; that function just drops the entry early.
    """
    cached = _RULES.get(trust_id)
    if cached is not None and cached[0] == settings:
        return cached[1]
    rules = TrustRules.from_mapping(settings)
    with _RULES_LOCK:
        _RULES[trust_id] = (copy.deepcopy(settings), rules)
    return rules


def forget_trust_rules(trust_id: int | None = None) -> None:
    """Drop the cached parsed rules of one trust (every trust when None): call after changing a trust's rules."""
    with _RULES_LOCK:
        if trust_id is None:
            _RULES.clear()
        else:
            _RULES.pop(trust_id, None)


class Academy(db.Model):
    """A school (or service) within a trust. Staff with no academy belong to the central team."""

    __table_args__ = (UniqueConstraint("trust_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The trust the academy belongs to.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), index=True)
    #: URL-safe key, unique within the trust.
    slug: Mapped[str] = mapped_column(String(80))
    #: Display name.
    name: Mapped[str] = mapped_column(String(200))

    trust: Mapped[Trust] = relationship(back_populates="academies")


class Role(db.Model):
    """A role defined in trusts.yaml for one trust: label, aliases and the capabilities it carries."""

    __table_args__ = (UniqueConstraint("trust_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The trust whose catalogue this role is in.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), index=True)
    #: Stable key, e.g. "headteacher".
    key: Mapped[str] = mapped_column(String(40))
    #: What the trust calls it, e.g. "Headteacher".
    label: Mapped[str] = mapped_column(String(120))
    #: Other names for it in the trust's policy, e.g. ["Principal"].
    aliases: Mapped[list] = mapped_column(JSON, default=list)
    #: Capability names (see modules/core/capabilities.py).
    capabilities: Mapped[list] = mapped_column(JSON, default=list)
    #: "trust" when held across the trust, "academy" when held for one academy.
    scope: Mapped[str] = mapped_column(String(20), default="trust")
    #: Keys of roles its holders may give even though those carry capabilities this role lacks (trusts.yaml);
    #: any other role may be given only by someone holding every capability it carries.
    assignable_roles: Mapped[list | None] = mapped_column(JSON, default=list)


class RoleAssignment(db.Model):
    """A person holding a role, trust-wide (academy_id null) or for one academy."""

    __table_args__ = (UniqueConstraint("user_id", "role_id", "academy_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Who holds the role.
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    #: Which role.
    role_id: Mapped[int] = mapped_column(ForeignKey("role.id"))
    #: The academy it is held for; null means the whole trust.
    academy_id: Mapped[int | None] = mapped_column(ForeignKey("academy.id"))

    role: Mapped[Role] = relationship(lazy="joined")
    academy: Mapped[Academy | None] = relationship()


class User(UserMixin, db.Model):
    """A member of a trust's staff."""

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The trust employing them.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), index=True)
    #: Sign-in name; unique across the service, stored lower-case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    #: Full name as HR records it.
    name: Mapped[str] = mapped_column(String(200))
    #: Job title, e.g. "Teaching assistant".
    job_title: Mapped[str] = mapped_column(String(200), default="")
    #: Department, e.g. "Science".
    department: Mapped[str] = mapped_column(String(200), default="")
    #: Their academy; null means the trust's central team.
    academy_id: Mapped[int | None] = mapped_column(ForeignKey("academy.id"), index=True)
    #: Their line manager (a relation, not a role).
    line_manager_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    #: Employment start date (drives induction deadlines).
    start_date: Mapped[date | None]
    #: argon2id hash; null until they set a password.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    #: False for leavers and disabled accounts: they cannot sign in and drop out of scope.
    active: Mapped[bool] = mapped_column(default=True)
    #: When they left, if they have.
    left_on: Mapped[date | None]
    #: When the record was created (UTC).
    created_at: Mapped[datetime]
    #: Made by `flask demo seed`: such an account can never sign in under production configuration.
    demo: Mapped[bool] = mapped_column(default=False, server_default=false())

    trust: Mapped[Trust] = relationship()
    academy: Mapped[Academy | None] = relationship()
    line_manager: Mapped["User | None"] = relationship(remote_side="User.id", back_populates="reports")
    reports: Mapped[list["User"]] = relationship(back_populates="line_manager")
    role_assignments: Mapped[list[RoleAssignment]] = relationship(cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        """Whether the person may sign in."""
        return self.active

    @property
    def academy_name(self) -> str:
        """Their academy's name, or "Central team"."""
        return self.academy.name if self.academy else "Central team"

    def _grants(self) -> "_Grants":
        # Worked out once per loaded state of this person's roles: pages check 20-50 capabilities a request
        # (navigation included). _forget_grants (below) drops it whenever the roles, their capabilities, the
        # person's reports or the loaded rows change, so a role change counts at once.
        grants = self.__dict__.get("_pp_grants")
        if grants is None or grants.generation != _GENERATION[0]:
            grants = _Grants(self)
            self.__dict__["_pp_grants"] = grants
        return grants

    def know_reports(self, manages: bool) -> None:
        """Record whether they line-manage anyone, read with them (spares the capability checks an EXISTS)."""
        grants = self._grants()
        if grants._reports is None:
            grants._reports = bool(manages)

    def capabilities_version(self) -> int:
        """A number that changes whenever what this person's capabilities are worked out from may have changed
        (for caches of things derived from them, such as the navigation of one request)."""
        return self._grants().generation

    def capabilities(self, academy_id: int | None = None) -> set[str]:
        """Capabilities held trust-wide, plus those held for the given academy."""
        grants = self._grants()
        caps = set(grants.trust_wide)
        caps.update(grants.by_academy.get(academy_id, ()))
        if grants.has_reports(self):
            caps.update(LINE_MANAGER_CAPABILITIES)
        return caps

    def can(self, capability: str, academy_id: int | None = None) -> bool:
        """Whether they hold the capability (anywhere in their trust when academy_id is None)."""
        grants = self._grants()
        if capability in grants.trust_wide:
            return True
        if academy_id is None:
            held = capability in grants.anywhere
        else:
            held = capability in grants.by_academy.get(academy_id, ())
        return held or (capability in LINE_MANAGER_CAPABILITIES and grants.has_reports(self))

    def academy_scope(self, capability: str) -> set[int] | None:
        """Academy ids where they hold the capability; None means the whole trust."""
        ids: set[int] = set()
        for assignment in self.role_assignments:
            if capability in assignment.role.capabilities:
                if assignment.academy_id is None:
                    return None
                ids.add(assignment.academy_id)
        return ids

    @property
    def role_labels(self) -> list[str]:
        """Labels of the roles they hold, for display and evidence snapshots."""
        return sorted({a.role.label for a in self.role_assignments})


class _Grants:
    """A person's capabilities as their loaded role assignments give them (see User._grants)."""

    __slots__ = ("generation", "trust_wide", "by_academy", "anywhere", "_reports")

    def __init__(self, user: User):
        self.generation = _GENERATION[0]
        self.trust_wide: set[str] = set()
        self.by_academy: dict[int, set[str]] = {}
        for assignment in user.role_assignments:
            if assignment.academy_id is None:
                self.trust_wide.update(assignment.role.capabilities)
            else:
                self.by_academy.setdefault(assignment.academy_id, set()).update(assignment.role.capabilities)
        self.anywhere = self.trust_wide.union(*self.by_academy.values())
        self._reports: bool | None = None

    def has_reports(self, user: User) -> bool:
        """Whether they line-manage anyone (read only when a check needs it)."""
        if self._reports is None:
            session = object_session(user)
            if "reports" in user.__dict__ or session is None or user.id is None:
                self._reports = bool(user.reports)
            else:  # one EXISTS (after the session's autoflush) rather than loading every report
                self._reports = bool(session.scalar(select(exists().where(User.line_manager_id == user.id))))
        return self._reports


#: Bumped whenever anything a person's capabilities are worked out from changes in memory: every cached _Grants
#: from before is then worked out again on its next use. A list, so the event handlers can change it in place.
_GENERATION = [0]


def _forget_grants(*_args, **_kwargs) -> None:
    _GENERATION[0] += 1


# Listening does not configure the mappers (that would cost every command its start-up time).
for _attribute in (User.role_assignments, User.reports):
    for _name in ("append", "remove", "bulk_replace", "set"):
        event.listen(_attribute, _name, _forget_grants)
for _attribute in (User.line_manager, User.line_manager_id, RoleAssignment.role, RoleAssignment.role_id,
                   RoleAssignment.academy_id, RoleAssignment.user_id, Role.capabilities):
    event.listen(_attribute, "set", _forget_grants)
# A row reloaded (after a commit, an expire or a refresh) may carry roles changed elsewhere. A first load needs
# nothing: a newly loaded person has no cached grants.
for _model in (User, RoleAssignment, Role):
    for _name in ("expire", "refresh"):
        event.listen(_model, _name, _forget_grants)


class LoginSession(db.Model):
    """A signed-in session held on the server: deleting the row ends the session for real."""

    #: sha256 of the random token kept in the signed cookie.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: Whose session.
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    #: When the person last proved who they are (sign-in or re-authentication), UTC.
    authenticated_at: Mapped[datetime]
    #: How they signed in, e.g. "password".
    method: Mapped[str] = mapped_column(String(40))
    #: IP address at sign-in (personal data; deleted with the session).
    ip_address: Mapped[str | None] = mapped_column(String(64))
    #: Browser user agent at sign-in (personal data; deleted with the session).
    user_agent: Mapped[str | None] = mapped_column(String(400))
    #: When the session was created, UTC.
    created_at: Mapped[datetime]


class PasswordReset(db.Model):
    """A forgotten-password link: single-use, short-lived; only a hash of its token is kept."""

    #: sha256 of the random token in the emailed link.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: Whose password the link resets.
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    #: When it was asked for, UTC.
    created_at: Mapped[datetime]
    #: When the link stops working, UTC.
    expires_at: Mapped[datetime]
    #: When it was used (or cancelled by a later reset or password change), UTC; null while it still works.
    used_at: Mapped[datetime | None]


class TotpCredential(db.Model):
    """A person's authenticator app (TOTP, RFC 6238): stored once they confirmed a code from it, and then
    asked for at every sign-in."""

    #: Whose authenticator it is (one per person).
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    #: The base32 shared secret the authenticator app holds, encrypted (modules/people/secretbox.py: "enc1:…").
    secret: Mapped[str] = mapped_column(String(255))
    #: When they turned it on by confirming a code from the app, UTC.
    enabled_at: Mapped[datetime]
    #: The last 30-second time step whose code was accepted, so one code cannot be used twice.
    last_step: Mapped[int | None]


class RecoveryCode(db.Model):
    """A one-time recovery code for signing in without the authenticator app; only its hash is kept."""

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Whose code it is.
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    #: sha256 of the code (codes are long random strings, so a fast hash is enough).
    code_hash: Mapped[str] = mapped_column(String(64))
    #: When it was made, UTC.
    created_at: Mapped[datetime]
    #: When it was used to sign in, UTC; null while unused.
    used_at: Mapped[datetime | None]


class SecurityEvent(db.Model):
    """One entry of the security event log (sign-ins, password and MFA changes, role changes, exports…).

    The same event is also written as a JSON line to the `policypass.security` logger.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    #: When it happened, UTC.
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    #: What happened, e.g. "sign-in" (see modules/people/security.py, EVENT_KINDS).
    kind: Mapped[str] = mapped_column(String(40), index=True)
    #: "success" or "failure" (or a more precise refusal, e.g. "rate-limited").
    outcome: Mapped[str] = mapped_column(String(40), default="success")
    #: The trust it belongs to; null when no trust is known (a sign-in attempt for an unknown address).
    trust_id: Mapped[int | None] = mapped_column(ForeignKey("trust.id"), index=True)
    #: Who did it, when signed in (or the person signing in).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    #: The person it was done to or about, if any.
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    #: What it was done to, in words: an export's name, the address typed at a refused sign-in …
    target: Mapped[str] = mapped_column(String(300), default="")
    #: The request's id (also sent back as the X-Request-ID header); null outside a request.
    request_id: Mapped[str | None] = mapped_column(String(64))
    #: The client's IP address (personal data).
    ip_address: Mapped[str | None] = mapped_column(String(64))
    #: Further facts, e.g. {"roles_before": […], "roles_after": […]}.
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped["User | None"] = relationship(foreign_keys=[actor_id])
    target_user: Mapped["User | None"] = relationship(foreign_keys=[target_user_id])
class RoleChange(db.Model):
    """A change to the roles a person holds: who made it, the roles before and after (append-only, ledgered)."""

    __table_args__ = ({"info": {"append_only": True, "evidence": True}},)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The trust whose person it is (and whose ledger records the change).
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), index=True)
    #: Whose roles changed.
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    #: Who changed them; null for the command line run by the operator without naming anyone.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: Where the change was made: "import", "ui" (a person's roles page), "cli", "erasure".
    source: Mapped[str] = mapped_column(String(20))
    #: Roles held before, sorted and space-separated: "key" for trust-wide, "key@academy-slug" for one academy.
    before: Mapped[str] = mapped_column(String(2000))
    #: Roles held after, in the same form.
    after: Mapped[str] = mapped_column(String(2000))
    #: When, UTC.
    created_at: Mapped[datetime]


class SsoIdentity(db.Model):
    """A person's account at their trust's identity provider: the stable subject id (`sub`) the provider gave on
    their first single sign-on, so later sign-ins match on it and never on an email address."""

    __table_args__ = (UniqueConstraint("trust_id", "issuer", "subject"), UniqueConstraint("user_id", "issuer"))

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Whose account it is.
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    #: The trust whose provider vouches for it (the person's trust).
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), index=True)
    #: The provider's issuer, exactly as in its ID tokens.
    issuer: Mapped[str] = mapped_column(String(300))
    #: The provider's subject id for the person (`sub`): stable, never reassigned.
    subject: Mapped[str] = mapped_column(String(255))
    #: When it was linked (the first single sign-on), UTC.
    created_at: Mapped[datetime]
    #: The latest sign-in through it, UTC.
    last_used_at: Mapped[datetime | None]
