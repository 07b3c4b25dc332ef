"""Every trust rule in one place: its name, type, default and meaning (`rules:` of a trust in content/trusts.yaml).

`TrustRules.from_mapping(mapping)` turns a trust's `rules:` into one frozen, typed object; a rule the trust does
not give takes the default written here (and only here). Anything unusable (an unknown key, a wrong type, a value
out of range, an unknown register column) raises RulesError naming the key, so `flask content sync` refuses it.
Checks that need more than the mapping (a chain step's role exists in the trust's catalogue; a quoted clause
exists in the trust's policy) are `role_problems` and `clause_refs`, run by the sync.

Code reads `trust.rules.pass_mark`, never a string. Where the policy states a rule, the clause is data next to
it: a step's or a note's `clauses`, `monitoring.clauses`, and `sources` for plain numbers (e.g.
`sources: {minimum_administrators: ["A.5.4"]}`); a rule with no clause is shown as a "trust setting".
"""

import dataclasses
import re
import types
import typing
from dataclasses import dataclass, field, fields
from functools import cache
from typing import Literal, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit

from modules.core.capabilities import CAPABILITIES

#: Relations a chain step may name instead of a role.
RELATIONS = ("line_manager",)
#: What a register column may show, per grant.
COLUMN_FIELDS = ("name", "job_title", "department", "job_title_dept", "person_academy", "account",
                 "account_owner", "platform", "handle")
#: The register's leading columns when a trust does not list its own.
DEFAULT_COLUMNS = (("Name", "name"), ("Job title", "job_title"), ("Department", "department"),
                   ("Account", "account"), ("Account owner", "account_owner"))
#: Placeholders a statement's wording may use.
STATEMENT_PLACEHOLDERS = ("title", "version", "trust", "clauses")


class RulesError(ValueError):
    """A trust's rules cannot be used; `key` names the rule (dotted, e.g. "approval_chain[2].role")."""

    def __init__(self, key: str, message: str):
        self.key, self.message = key, message
        super().__init__(f"{key}: {message}" if key else message)


# --------------------------------------------------------------------------- reading a mapping into dataclasses


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix and not key.startswith("[") else f"{prefix}{key}"


@cache
def _hints(cls) -> dict:
    return get_type_hints(cls)


def _describe(tp) -> str:
    origin = get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        return " or ".join(_describe(a) for a in get_args(tp) if a is not type(None)) + " (or null)"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin is tuple:
        return "a list"
    if origin is dict or dataclasses.is_dataclass(tp):
        return "a mapping"
    return {int: "a whole number", bool: "true or false", str: "text (quote clause refs, e.g. \"4.1\")"}.get(
        tp, str(tp))


def _convert(tp, value, key: str):
    """`value` from YAML as type `tp`; RulesError naming `key` when it is not one."""
    origin = get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        args = [a for a in get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _convert(args[0], value, key)
    if origin is Literal:
        if value not in get_args(tp):
            raise RulesError(key, f"must be {_describe(tp)}, not {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise RulesError(key, f"must be a list, not {value!r}")
        item = get_args(tp)[0]
        return tuple(_convert(item, v, f"{key}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise RulesError(key, f"must be a mapping, not {value!r}")
        return {str(k): _convert(get_args(tp)[1], v, _join(key, str(k))) for k, v in value.items()}
    if dataclasses.is_dataclass(tp):
        return build(tp, value, key)
    if tp is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise RulesError(key, f"must be {_describe(tp)}, not {value!r}")
    if tp in (bool, str) and not isinstance(value, tp):
        raise RulesError(key, f"must be {_describe(tp)}, not {value!r}")
    return value


def build(cls, data, key: str = ""):
    """An instance of dataclass `cls` from a YAML mapping: unknown keys, wrong types and bad values fail."""
    if not isinstance(data, dict):
        raise RulesError(key, f"must be a mapping, not {data!r}")
    known = [f.name for f in fields(cls) if f.init and not f.metadata.get("internal")]
    unknown = [name for name in data if name not in known]
    if unknown:
        raise RulesError(_join(key, str(unknown[0])), f"unknown rule (known here: {', '.join(known)})")
    hints = _hints(cls)
    values = {name: _convert(hints[name], value, _join(key, name)) for name, value in data.items()}
    missing = [f.name for f in fields(cls) if f.init and f.name not in values
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise RulesError(_join(key, missing[0]), "is required")
    try:
        return cls(**values)
    except RulesError as exc:
        raise RulesError(_join(key, exc.key), exc.message) from None


def _at_least(key: str, value: int, lowest: int, highest: int | None = None) -> None:
    if value < lowest or (highest is not None and value > highest):
        span = f"between {lowest} and {highest}" if highest is not None else f"{lowest} or more"
        raise RulesError(key, f"must be {span}, not {value}")


Clauses = tuple[str, ...]


# --------------------------------------------------------------------------- the parts of a trust's rules


@dataclass(frozen=True)
class Monitoring:
    """Whether the policy monitors staff, and how staff are told: none, a notice, or consent (with clauses)."""

    kind: Literal["none", "notice", "consent"] = "none"
    #: The clauses that state it; quoted on the acknowledge page.
    clauses: Clauses = ()

    def __post_init__(self):
        if self.kind != "none" and not self.clauses:
            raise RulesError("clauses", f"monitoring {self.kind} must name the clauses that state it")


@dataclass(frozen=True)
class Refresh:
    """The annual refresh: rolling from each completion, or a fixed trust-wide window."""

    mode: Literal["rolling", "window"] = "rolling"
    #: rolling: due the day before `months` after the last completion, assigned `open_days` before that.
    months: int = 12
    open_days: int = 30
    #: window: opens each year on month/day and closes `days` later; the first window at least `min_months`
    #: after the last completion.
    month: int | None = None
    day: int = 1
    days: int = 30
    min_months: int = 6

    def __post_init__(self):
        _at_least("months", self.months, 1)
        _at_least("open_days", self.open_days, 0)
        _at_least("days", self.days, 1)
        _at_least("min_months", self.min_months, 0)
        if self.mode == "window":
            if self.month is None:
                raise RulesError("month", "a refresh window needs the month it opens")
            _at_least("month", self.month, 1, 12)
            _at_least("day", self.day, 1, 28)


@dataclass(frozen=True)
class Step:
    """One approver in a chain: a relation to the requester (line manager) or a role of the trust."""

    label: str = ""
    clauses: Clauses = ()
    relation: Literal[RELATIONS] | None = None  # type: ignore[valid-type]
    role: str | None = None
    #: For an account of the central team, this role approves instead of `role`.
    central_role: str | None = None
    #: When the trust's rule is inferred rather than stated by the policy: why, shown to everyone.
    inferred: str | None = None
    #: The approver must have recorded "training discussed" with the requester first (E-ACT 4.2.1).
    requires_training_discussed: bool = False
    #: Position in the chain (set by the chain, not written in YAML).
    index: int = field(default=0, metadata={"internal": True})

    def __post_init__(self):
        if bool(self.relation) == bool(self.role):
            raise RulesError("role", "give exactly one of 'relation' or 'role'")
        if not self.label:
            object.__setattr__(self, "label", self.role or self.relation)

    def as_dict(self) -> dict:
        """The step as stored in a request's chain snapshot."""
        return {"label": self.label, "clauses": list(self.clauses), "relation": self.relation, "role": self.role,
                "central_role": self.central_role, "inferred": self.inferred,
                "requires_training_discussed": self.requires_training_discussed}


@dataclass(frozen=True)
class EscalationStep:
    """Who is emailed, once, when a person's training is `after_days` overdue: their line manager, or the holders
    of a role at the person's academy (`central_role` for the central team)."""

    after_days: int
    relation: Literal[RELATIONS] | None = None  # type: ignore[valid-type]
    role: str | None = None
    central_role: str | None = None

    def __post_init__(self):
        if bool(self.relation) == bool(self.role):
            raise RulesError("role", "give exactly one of 'relation' or 'role'")
        _at_least("after_days", self.after_days, 1)

    @property
    def key(self) -> str:
        """How the step is named in outbox reasons and on the history, e.g. "line_manager" or "headteacher"."""
        return self.relation or self.role or ""


_ESCALATION = (EscalationStep(14, relation="line_manager"),
               EscalationStep(28, role="headteacher", central_role="ceo"))


def chain_from(steps: list[dict], key: str = "approval_chain") -> tuple[Step, ...]:
    """Steps from YAML or from a request's stored snapshot, numbered in order."""
    chain = _convert(tuple[Step, ...], steps, key)
    return tuple(dataclasses.replace(step, index=i) for i, step in enumerate(chain))


@dataclass(frozen=True)
class Platform:
    """Where an official account lives; `kind` is "external" for third-party platforms."""

    key: str
    label: str
    kind: str = "external"


@dataclass(frozen=True)
class ForbiddenRule:
    """Requests matching every given condition are refused, quoting `clause` from the trust's policy."""

    clause: str
    platform_kind: str | None = None
    platform: str | None = None
    kind: str | None = None
    role: str | None = None
    message: str | None = None

    def __post_init__(self):
        if not self.conditions:
            raise RulesError("", "give at least one condition: platform_kind, platform, kind or role")

    @property
    def conditions(self) -> tuple[tuple[str, str], ...]:
        """The (fact, value) pairs a request must all match."""
        return tuple((name, getattr(self, name)) for name in ("kind", "platform", "platform_kind", "role")
                     if getattr(self, name) is not None)

    def matches(self, facts: dict) -> bool:
        """Whether a request with these facts (platform_kind, platform, kind, role) is forbidden."""
        return all(str(facts.get(key)) == str(value) for key, value in self.conditions)


@dataclass(frozen=True)
class FormField:
    """An extra question on the new-account request (e.g. TSAT's Appendix 2 form)."""

    key: str
    label: str
    type: Literal["text", "textarea", "date", "choices"] = "textarea"
    required: bool = False
    hint: str | None = None
    choices: tuple[str, ...] = ()
    #: For a date: the key of a date it must come after.
    after: str | None = None

    def __post_init__(self):
        if self.type == "choices" and not self.choices:
            raise RulesError("choices", "a choices field needs choices")


@dataclass(frozen=True)
class RequestForm:
    """The trust's own form for setting up a new account or site."""

    title: str = "Request form"
    clauses: Clauses = ()
    fields: tuple[FormField, ...] = ()

    def __post_init__(self):
        seen: dict[str, str] = {}
        for i, item in enumerate(self.fields):
            if item.key in seen:
                raise RulesError(f"fields[{i}].key", f"{item.key!r} appears twice")
            if item.after and seen.get(item.after) != "date":
                raise RulesError(f"fields[{i}].after", "must name an earlier date field")
            seen[item.key] = item.type


@dataclass(frozen=True)
class Column:
    """A leading register column: its heading and what it shows."""

    label: str
    field: Literal[COLUMN_FIELDS]  # type: ignore[valid-type]


@dataclass(frozen=True)
class Note:
    """A note shown on forms, quoting clauses of the policy."""

    text: str
    clauses: Clauses = ()


@dataclass(frozen=True)
class MinimumSource:
    """Where the policy states a minimum: the clause, its own words (quoted wherever the minimum is shown, and
    checked to be in the clause) and what it calls the people, when not "administrators" / "moderators"."""

    clause: str
    words: str
    label: str | None = None


@dataclass(frozen=True)
class Statements:
    """The wording of each statement a person ticks ({title}, {version}, {trust}, {clauses}); quotes follow."""

    policy: str = "I have read and understood {title} ({version}) of {trust}, and I will comply with it."
    consent: str = ("I consent to the monitoring described in {clauses} of the policy, quoted here. I can "
                    "withdraw this consent at any time; a withdrawal takes effect from when I make it.")
    notice: str = ("I have read the monitoring notice in {clauses} of the policy, quoted here, and I understand "
                   "what it tells me about monitoring.")

    def __post_init__(self):
        for f in fields(self):
            try:
                getattr(self, f.name).format(**dict.fromkeys(STATEMENT_PLACEHOLDERS, ""))
            except (KeyError, IndexError, ValueError) as exc:
                raise RulesError(f.name, f"unknown placeholder {exc} (known: "
                                 f"{', '.join('{' + p + '}' for p in STATEMENT_PLACEHOLDERS)})") from None


#: Entra ID's shared endpoints: users of any tenant come through them, and their metadata names no single issuer
#: (it says "{tenantid}"), so issuer validation cannot work. A trust gives its own tenant's id instead.
ENTRA_SHARED_TENANTS = ("common", "organizations", "consumers")
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
#: Issuers that may use plain http: a provider on this machine (development and tests).
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def _check_domains(key: str, domains: tuple[str, ...]) -> None:
    for i, domain in enumerate(domains):
        if domain != domain.lower() or not _DOMAIN.match(domain):
            raise RulesError(f"{key}[{i}]", f"must be a lower-case domain such as \"example.sch.uk\", not {domain!r}")


@dataclass(frozen=True)
class SingleSignOn:
    """Sign-in through the trust's identity provider (OpenID Connect): Entra ID, Google Workspace or any
    standards provider. The client secret is never here: it comes from the environment or a secrets file
    (modules/people/sso.py)."""

    #: "entra" (Microsoft Entra ID, one tenant), "google" (Google Workspace, hosted domains) or "oidc".
    kind: Literal["entra", "google", "oidc"]
    #: The client (application) id the provider gave PolicyPass.
    client_id: str
    #: entra: the directory (tenant) id, a GUID. Its users' tokens must carry it (`tid`).
    tenant_id: str | None = None
    #: google: the Workspace domains whose accounts may sign in (the token's `hd` claim must be one).
    hosted_domains: tuple[str, ...] = ()
    #: The provider's issuer. Required for "oidc"; entra and google derive it (set it only for a test provider).
    issuer: str | None = None
    #: A first sign-in links to an invited account by email only for a verified address in one of these
    #: domains (default for google: its hosted domains).
    allowed_domains: tuple[str, ...] = ()
    #: The button's words after "Sign in with", e.g. "your E-ACT Microsoft account".
    label: str = ""
    #: True: staff sign in only through the provider; passwords work only for break-glass holders of
    #: `password_capabilities` (a trust setting).
    required_for_staff: bool = False
    #: Break-glass: people holding any of these capabilities may still sign in with a password (and two-step
    #: verification), so the trust can get in when the provider is down or misconfigured.
    password_capabilities: tuple[str, ...] = ("trust:admin",)

    def __post_init__(self):
        if not self.client_id.strip():
            raise RulesError("client_id", "is required")
        if self.kind == "entra":
            tenant = (self.tenant_id or "").strip().lower()
            if tenant in ENTRA_SHARED_TENANTS:
                raise RulesError("tenant_id", f"the shared '/{tenant}' endpoint cannot be used: it lets users of "
                                 "any tenant in and breaks issuer validation. Give your own tenant's id (a GUID, "
                                 "Entra admin centre → Overview → Tenant ID)")
            if not _GUID.match(tenant):
                raise RulesError("tenant_id", "must be your Entra tenant id, a GUID such as "
                                 f"\"00000000-0000-0000-0000-000000000000\", not {self.tenant_id!r}")
            object.__setattr__(self, "tenant_id", tenant)
        elif self.tenant_id is not None:
            raise RulesError("tenant_id", "is only for kind entra")
        if self.kind == "google":
            if not self.hosted_domains:
                raise RulesError("hosted_domains", "Google Workspace sign-in needs the trust's domains, or any "
                                 "Google account could sign in")
            _check_domains("hosted_domains", self.hosted_domains)
        elif self.hosted_domains:
            raise RulesError("hosted_domains", "is only for kind google")
        if self.kind == "oidc" and not self.issuer:
            raise RulesError("issuer", "is required for kind oidc")
        if self.issuer is not None:
            parts = urlsplit(self.issuer)
            if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOCAL_HOSTS):
                raise RulesError("issuer", f"must be an https address, not {self.issuer!r}")
            lowered = self.issuer.lower()
            if any(f"/{shared}/" in lowered + "/" for shared in ENTRA_SHARED_TENANTS) or "{tenantid}" in lowered:
                raise RulesError("issuer", "a shared multi-tenant endpoint breaks issuer validation: use your "
                                 "tenant's own issuer")
            if parts.query or parts.fragment:
                raise RulesError("issuer", f"must be a plain address, not {self.issuer!r}")
        _check_domains("allowed_domains", self.allowed_domains)
        if not self.email_domains:
            raise RulesError("allowed_domains", "give the email domains whose invited accounts may be linked "
                             "on their first sign-in")
        unknown = sorted(set(self.password_capabilities) - CAPABILITIES.keys())
        if unknown:
            raise RulesError("password_capabilities", f"unknown capabilities: {', '.join(unknown)}")

    @property
    def expected_issuer(self) -> str:
        """The issuer every ID token (and the provider's metadata) must name exactly."""
        if self.issuer:
            return self.issuer  # compared exactly, trailing slash and all (OpenID Connect Discovery 4.3)
        if self.kind == "entra":
            return f"https://login.microsoftonline.com/{self.tenant_id}/v2.0"
        return "https://accounts.google.com"

    @property
    def email_domains(self) -> tuple[str, ...]:
        """Domains whose verified addresses may link an invited account on a first sign-in."""
        return self.allowed_domains or self.hosted_domains

    def button_label(self, trust_short_name: str) -> str:
        """What the sign-in button says after "Sign in with", e.g. "your E-ACT Microsoft account"."""
        if self.label:
            return self.label
        provider = {"entra": " Microsoft", "google": " Google"}.get(self.kind, "")
        return f"your {trust_short_name}{provider} account"


@dataclass(frozen=True)
class Contact:
    """Who staff contact for help with their training (a trust setting): linked from every page's footer."""

    #: As shown in "Contact <name>", e.g. "HR" or "the People team".
    name: str = "HR"
    #: An email address for the link; without one the link leads to the help page's contact section.
    email: str | None = None

    def __post_init__(self):
        if not self.name.strip() or "\n" in self.name:
            raise RulesError("name", "must be a short name on one line")
        if self.email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", self.email):
            raise RulesError("email", f"must be an email address, not {self.email!r}")


@dataclass(frozen=True)
class Signatory:
    """Who signs the trust's certificates (a trust setting): printed under the certificate with their role."""

    name: str
    role: str

    def __post_init__(self):
        for key in ("name", "role"):
            if not getattr(self, key).strip() or "\n" in getattr(self, key):
                raise RulesError(key, "must be given, on one line")


#: A logo file under content/ (SVG, inlined into the certificate, which fetches nothing).
LOGO_PATTERN = r"logos/[a-z0-9][a-z0-9-]*\.svg"


_PLATFORMS = (
    Platform("facebook", "Facebook"), Platform("x", "X (Twitter)"), Platform("instagram", "Instagram"),
    Platform("linkedin", "LinkedIn"), Platform("youtube", "YouTube"), Platform("tiktok", "TikTok"),
    Platform("school_website", "School website or blog", "school_site"),
    Platform("learning_platform", "School learning platform", "school_site"),
)
_CREDENTIALS_NOTE = Note("PolicyPass never asks for or stores an account's password. Each person signs in to the "
                         "platform with their own login; do not type a password into any box here.")


# --------------------------------------------------------------------------- the one object


@dataclass(frozen=True)
class Lti:
    """How people launched from the trust's LMS (LTI 1.3) are given PolicyPass roles (trust settings)."""

    #: The role an LMS Learner (or Instructor) is given when first seen (a key of the trust's role catalogue).
    learner_role: str = "staff"
    #: True: a course roster sync makes the course's one Instructor the line manager of its Learners.
    #: Default false: an Instructor is a learner like any other and manages nobody.
    instructor_line_manages: bool = False


#: A policy series' short name (its slug), as in `?policy=acceptable-use`.
SERIES_SLUG = r"[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?"


@dataclass(frozen=True)
class TrustRules:
    """One trust's rules: every rule with its type and default. `trust.rules` is one of these."""

    # Training and the quiz
    #: Questions drawn per quiz attempt.
    quiz_questions: int = 10
    #: Per cent needed to pass the quiz.
    pass_mark: int = 80
    #: Ask for the password again before signing when the sign-in is older than this.
    reauth_minutes: int = 30
    #: Two-step verification (an authenticator app) is required of anyone holding one of these capabilities:
    #: they must set it up after signing in before they can use anything else (a trust setting).
    mfa_required_capabilities: tuple[str, ...] = ("accounts:approve", "evidence:export")
    #: A signed-in session ends after this many minutes without a request (a trust setting).
    session_idle_minutes: int = 30
    #: The shorter limit for people who can manage staff (HR, trust administrators) (a trust setting).
    session_idle_minutes_staff_manage: int = 15
    #: After this many refused sign-ins for one account within `sign_in_lockout_minutes`, signing in to that
    #: account is refused until the window has passed, whatever password is given (a trust setting).
    sign_in_lockout_attempts: int = 10
    sign_in_lockout_minutes: int = 15
    #: A leaver's personal data is erased this many months after the day they left (by the daily run, or
    #: `flask retention run`), unless a legal hold is in place. Default: six years, as schools commonly keep
    #: staff records after employment ends (a trust setting).
    retention_months_after_leaving: int = 72
    #: True: appendices that are blank forms or templates must be read too (otherwise optional reading).
    form_appendices_compulsory: bool = False
    #: The statements' wording (defaults above; a trust may reword them).
    statements: Statements = Statements()
    #: Monitoring: none stated, a notice, or consent (with the clauses that state it).
    monitoring: Monitoring = Monitoring()
    #: With monitoring kind "consent": true makes consent a condition of acknowledging the policy (so of the
    #: certificate). Default false: consent is its own decision and declining it is recorded, not penalised.
    #: `flask content sync` warns when a trust sets it, because a condition makes consent not freely given.
    consent_is_condition: bool = False
    #: Who staff ask about monitoring.
    consent_contact: str = "your HR team or your trust's Data Protection Officer"
    #: Who staff contact for help; linked from every page (a trust setting).
    hr_contact: Contact = Contact()

    #: LMS launches (LTI 1.3): the roles given to the LMS's people.
    lti: Lti = Lti()

    # Certificates and deadlines
    #: A certificate is valid for this many months from completion.
    certificate_validity_months: int = 12
    #: Old-version certificates stay valid this many days after a new version takes effect.
    supersede_grace_days: int = 30
    #: Training on a new version is due this many days after it takes effect (default: the grace period).
    new_version_days: int | None = None
    #: Induction training is due this many days after the start date.
    induction_days: int = 30
    #: The annual refresh.
    refresh: Refresh = Refresh()
    #: The trust's logo on its certificates: an SVG file under content/ (e.g. "logos/tkat.svg"); none by default.
    logo: str | None = None
    #: Who signs the certificates (name and role), printed under them; none by default (a trust setting).
    certificate_signatory: Signatory | None = None

    # Reminders
    #: False turns off every training reminder email for the trust.
    reminders: bool = True
    #: "Due soon" email this many days before the due date.
    reminder_days_before: int = 7
    #: While overdue, remind again this often (the line manager is copied).
    reminder_repeat_days: int = 7
    #: Overdue training is escalated, once each, in order: by default the line manager after 14 days, then the
    #: headteacher of the person's academy (the CEO for the central team) after 28. A trust setting.
    escalation: tuple[EscalationStep, ...] = _ESCALATION

    # Official accounts and the register
    #: The policy (series slug, e.g. "social-media") whose certificate gates the authorised-user register and
    #: is tracked by assignments and reminders; none: the trust's first policy (a trust setting).
    register_policy: str | None = None
    #: Ordered approvers for official-account requests.
    approval_chain: tuple[Step, ...] = ()
    #: Fewest approved administrators / moderators an active account should have.
    minimum_administrators: int = 0
    minimum_moderators: int = 0
    #: Where each minimum is stated, by account role ("administrator", "moderator"); a minimum without one is
    #: shown as a trust setting. A new account cannot become active until its minimums are met.
    minimum_sources: dict[str, MinimumSource] = field(default_factory=dict)
    #: Flag accounts that will fall below a minimum within this many days.
    register_warning_days: int = 30
    #: Leading register/export columns; empty means DEFAULT_COLUMNS.
    register_columns: tuple[Column, ...] = ()
    #: Clauses quoted above the register.
    register_clauses: Clauses = ()
    #: Requests the policy forbids outright.
    forbidden_requests: tuple[ForbiddenRule, ...] = ()
    #: Extra questions on a new-account request.
    request_form: RequestForm | None = None
    #: Where an official account can live.
    account_platforms: tuple[Platform, ...] = _PLATFORMS
    #: Shown on every account form instead of ever asking for a password.
    credentials_note: Note = _CREDENTIALS_NOTE

    # Signing in
    #: Single sign-on through the trust's identity provider; none means email and password only.
    sso: SingleSignOn | None = None

    #: The clauses that state a plain rule, by rule name (e.g. {"minimum_administrators": ("A.5.4",)}).
    sources: dict[str, Clauses] = field(default_factory=dict)

    def __post_init__(self):
        _at_least("quiz_questions", self.quiz_questions, 1)
        _at_least("pass_mark", self.pass_mark, 0, 100)
        for name in ("reauth_minutes", "certificate_validity_months", "induction_days", "session_idle_minutes",
                     "session_idle_minutes_staff_manage", "sign_in_lockout_attempts", "sign_in_lockout_minutes",
                     "retention_months_after_leaving"):
            _at_least(name, getattr(self, name), 1)
        for name in ("supersede_grace_days", "reminder_days_before", "minimum_administrators",
                     "minimum_moderators", "register_warning_days"):
            _at_least(name, getattr(self, name), 0)
        _at_least("reminder_repeat_days", self.reminder_repeat_days, 1)
        if self.logo is not None and not re.fullmatch(LOGO_PATTERN, self.logo):
            raise RulesError("logo", f"must be an SVG file under content/logos/, e.g. \"logos/my-trust.svg\", not {self.logo!r}")
        if self.register_policy is not None and not re.fullmatch(SERIES_SLUG, self.register_policy):
            raise RulesError("register_policy", "must be a policy's short name: lower-case letters, digits and "
                             f"hyphens, e.g. \"social-media\", not {self.register_policy!r}")
        if self.new_version_days is not None:
            _at_least("new_version_days", self.new_version_days, 0)
        object.__setattr__(self, "approval_chain",
                           tuple(dataclasses.replace(s, index=i) for i, s in enumerate(self.approval_chain)))
        unknown = sorted(set(self.mfa_required_capabilities) - CAPABILITIES.keys())
        if unknown:
            raise RulesError("mfa_required_capabilities", f"unknown capabilities: {', '.join(unknown)} "
                             "(declared in modules/core/capabilities.py)")
        names = {f.name for f in fields(self)} - {"sources"}
        for name in self.sources:
            if name not in names:
                raise RulesError(f"sources.{name}", "is not a rule")
        for role in self.minimum_sources:
            if role not in ("administrator", "moderator"):
                raise RulesError(f"minimum_sources.{role}", "must be administrator or moderator")
        if len({c.label for c in self.register_columns}) != len(self.register_columns):
            raise RulesError("register_columns", "columns must have distinct labels")
        keys = [p.key for p in self.account_platforms]
        if len(set(keys)) != len(keys):
            raise RulesError("account_platforms", "platform keys must be distinct")
        kinds = {p.kind for p in self.account_platforms}
        for i, rule in enumerate(self.forbidden_requests):
            if rule.platform_kind is not None and rule.platform_kind not in kinds:
                raise RulesError(f"forbidden_requests[{i}].platform_kind",
                                 f"no platform has kind {rule.platform_kind!r}")
            if rule.platform is not None and rule.platform not in keys:
                raise RulesError(f"forbidden_requests[{i}].platform", f"no platform {rule.platform!r}")

    @classmethod
    def from_mapping(cls, mapping: dict | None) -> "TrustRules":
        """A trust's `rules:` mapping as TrustRules; RulesError naming the key when it cannot be used."""
        return build(cls, mapping or {})

    # ---- derived, so callers never repeat a default

    @property
    def new_version_due_days(self) -> int:
        """Days after a new version takes effect that its training is due (default: the grace period)."""
        return self.supersede_grace_days if self.new_version_days is None else self.new_version_days

    @property
    def minimums(self) -> dict[str, int]:
        """Minimum holders per account role ("administrator", "moderator")."""
        return {"administrator": self.minimum_administrators, "moderator": self.minimum_moderators}

    @property
    def columns(self) -> tuple[tuple[str, str], ...]:
        """The register's leading (label, field) columns."""
        return tuple((c.label, c.field) for c in self.register_columns) or DEFAULT_COLUMNS

    def platform(self, key: str) -> Platform | None:
        """The platform with this key, if the trust lists it."""
        return next((p for p in self.account_platforms if p.key == key), None)

    def forbidding(self, facts: dict) -> ForbiddenRule | None:
        """The first forbidden-request rule the facts match, if any."""
        return next((rule for rule in self.forbidden_requests if rule.matches(facts)), None)

    def source(self, name: str) -> Clauses:
        """The clauses that state a rule; empty when it is a trust setting the policy does not state."""
        role = {"minimum_administrators": "administrator", "minimum_moderators": "moderator"}.get(name)
        if name not in self.sources and role in self.minimum_sources:
            return (self.minimum_sources[role].clause,)
        return self.sources.get(name, ())

    # ---- checks that need more than the mapping

    def role_problems(self, role_scopes: dict[str, str]) -> list[tuple[str, str]]:
        """(key, problem) for chain or escalation steps no role of the trust can fill (role key → "trust" or
        "academy")."""
        found = []
        for step in self.approval_chain:
            key = f"approval_chain[{step.index}]"
            for name in ("role", "central_role"):
                value = getattr(step, name)
                if value and value not in role_scopes:
                    found.append((f"{key}.{name}", f"the trust has no role {value!r}"))
            # The central team's accounts belong to no academy, so an academy role cannot approve them.
            central = step.central_role or step.role
            if role_scopes.get(central) == "academy":
                found.append((f"{key}.central_role", f"role {central!r} is held per academy, so nobody could "
                              "approve the central team's accounts: add a trust-wide 'central_role'"))
        for i, step in enumerate(self.escalation):
            for name in ("role", "central_role"):
                value = getattr(step, name)
                if value and value not in role_scopes:
                    found.append((f"escalation[{i}].{name}", f"the trust has no role {value!r}"))
        return found

    def clause_refs(self) -> list[tuple[str, str]]:
        """(key, clause ref) for every clause the rules quote, so the sync can check the policy has it."""
        refs = [(f"monitoring.clauses[{i}]", ref) for i, ref in enumerate(self.monitoring.clauses)]
        for step in self.approval_chain:
            refs += [(f"approval_chain[{step.index}].clauses[{i}]", ref) for i, ref in enumerate(step.clauses)]
        refs += [(f"register_clauses[{i}]", ref) for i, ref in enumerate(self.register_clauses)]
        refs += [(f"forbidden_requests[{i}].clause", rule.clause) for i, rule in enumerate(self.forbidden_requests)]
        if self.request_form:
            refs += [(f"request_form.clauses[{i}]", ref) for i, ref in enumerate(self.request_form.clauses)]
        refs += [(f"credentials_note.clauses[{i}]", ref) for i, ref in enumerate(self.credentials_note.clauses)]
        for name, clauses in self.sources.items():
            refs += [(f"sources.{name}[{i}]", ref) for i, ref in enumerate(clauses)]
        refs += [(f"minimum_sources.{role}.clause", source.clause) for role, source in self.minimum_sources.items()]
        return refs
