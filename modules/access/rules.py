"""A trust's register rules, read from its settings (content/trusts.yaml): never a code branch per trust.

Chains, minimums, forbidden requests, platforms, the request form, register columns and the note shown
instead of asking for a password are all data. `rules_for(trust)` turns them into small frozen objects;
`problems(settings, role_scopes)` lists what is wrong with them, so `flask content sync` can refuse bad data.
"""

from dataclasses import dataclass, field

#: Roles a person can hold on an official account, with their labels.
ACCOUNT_ROLES = {"administrator": "Administrator", "moderator": "Moderator", "publisher": "Publisher"}
#: The trust settings giving the minimum number of people holding each account role.
MINIMUM_KEYS = {"administrator": "minimum_administrators", "moderator": "minimum_moderators"}
#: Relations a chain step may name instead of a role.
RELATIONS = {"line_manager"}
#: Request kinds: join an existing account, or set up a new account or site.
JOIN, NEW_ACCOUNT = "join", "new_account"
#: Facts a forbidden-request rule may test.
FORBIDDEN_CONDITIONS = {"platform_kind", "platform", "kind", "role"}
#: Field types a request form may use.
FIELD_TYPES = {"text", "textarea", "date", "choices"}
#: What a register column may show, per grant.
COLUMN_FIELDS = {"name", "job_title", "department", "job_title_dept", "person_academy", "account",
                 "account_owner", "platform", "handle"}
DEFAULT_COLUMNS = (("Name", "name"), ("Job title", "job_title"), ("Department", "department"),
                   ("Account", "account"), ("Account owner", "account_owner"))
DEFAULT_WARNING_DAYS = 30


class RulesError(ValueError):
    """A trust's register rules in trusts.yaml cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Step:
    """One approver in a chain: a relation to the requester (line manager) or a role of the trust."""

    index: int
    label: str
    clauses: tuple[str, ...] = ()
    relation: str | None = None
    role: str | None = None
    #: For an account of the central team, this role approves instead of `role`.
    central_role: str | None = None
    #: When the trust's rule is inferred rather than stated by the policy: why, shown to everyone.
    inferred: str | None = None
    #: The approver must have recorded "training discussed" with the requester first (E-ACT 4.2.1).
    requires_training_discussed: bool = False

    def as_dict(self) -> dict:
        """The step as stored in a request's chain snapshot."""
        return {"label": self.label, "clauses": list(self.clauses), "relation": self.relation, "role": self.role,
                "central_role": self.central_role, "inferred": self.inferred,
                "requires_training_discussed": self.requires_training_discussed}


@dataclass(frozen=True)
class Platform:
    """Where an official account lives; `kind` is "external" for third-party platforms."""

    key: str
    label: str
    kind: str


@dataclass(frozen=True)
class ForbiddenRule:
    """Requests matching every condition are refused, quoting `clause` from the trust's policy."""

    conditions: tuple[tuple[str, str], ...]
    clause: str
    message: str | None = None

    def matches(self, facts: dict) -> bool:
        """Whether a request with these facts (platform_kind, platform, kind, role) is forbidden."""
        return all(str(facts.get(key)) == str(value) for key, value in self.conditions)


@dataclass(frozen=True)
class FormField:
    """An extra question on the new-account request (e.g. TSAT's Appendix 2 form)."""

    key: str
    label: str
    type: str = "textarea"
    required: bool = False
    hint: str | None = None
    choices: tuple[str, ...] = ()
    #: For a date: the key of a date it must come after.
    after: str | None = None


@dataclass(frozen=True)
class RequestForm:
    """The trust's own form for setting up a new account or site."""

    title: str
    clauses: tuple[str, ...]
    fields: tuple[FormField, ...]


@dataclass(frozen=True)
class Note:
    """A note shown on forms, quoting clauses of the policy."""

    text: str
    clauses: tuple[str, ...] = ()


@dataclass(frozen=True)
class AccessRules:
    """Everything the register needs to know about one trust."""

    chain: tuple[Step, ...]
    minimums: dict[str, int]
    platforms: tuple[Platform, ...]
    forbidden: tuple[ForbiddenRule, ...]
    request_form: RequestForm | None
    columns: tuple[tuple[str, str], ...]
    credentials_note: Note | None
    warning_days: int = DEFAULT_WARNING_DAYS
    register_clauses: tuple[str, ...] = field(default=())

    def platform(self, key: str) -> Platform | None:
        """The platform with this key, if the trust lists it."""
        return next((p for p in self.platforms if p.key == key), None)

    def forbidding(self, facts: dict) -> ForbiddenRule | None:
        """The first forbidden-request rule the facts match, if any."""
        return next((rule for rule in self.forbidden if rule.matches(facts)), None)


def _tuple(value) -> tuple:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list | tuple) else (value,)


def _steps(raw) -> tuple[Step, ...]:
    steps = []
    for index, spec in enumerate(raw or []):
        if not isinstance(spec, dict):
            raise RulesError(f"approval_chain step {index + 1} must be a mapping")
        steps.append(Step(index=index, label=str(spec.get("label") or spec.get("role") or spec.get("relation")),
                          clauses=tuple(str(c) for c in _tuple(spec.get("clauses"))),
                          relation=spec.get("relation"), role=spec.get("role"),
                          central_role=spec.get("central_role"), inferred=spec.get("inferred"),
                          requires_training_discussed=bool(spec.get("requires_training_discussed", False))))
    return tuple(steps)


def steps_from_snapshot(snapshot: list[dict]) -> tuple[Step, ...]:
    """The steps of a chain stored with a request when it was made."""
    return _steps(snapshot)


def _fields(raw) -> tuple[FormField, ...]:
    fields = []
    for spec in raw or []:
        fields.append(FormField(key=str(spec["key"]), label=str(spec["label"]), type=spec.get("type", "textarea"),
                                required=bool(spec.get("required", False)), hint=spec.get("hint"),
                                choices=tuple(str(c) for c in _tuple(spec.get("choices"))),
                                after=spec.get("after")))
    return tuple(fields)


def rules_from_settings(settings: dict) -> AccessRules:
    """Parse a trust's settings into AccessRules; RulesError if they are malformed."""
    settings = settings or {}
    try:
        form = settings.get("request_form")
        request_form = None
        if form:
            if not isinstance(form, dict):
                raise RulesError("request_form must be a mapping with title, clauses and fields")
            request_form = RequestForm(title=str(form.get("title", "Request form")),
                                       clauses=tuple(str(c) for c in _tuple(form.get("clauses"))),
                                       fields=_fields(form.get("fields")))
        columns = []
        for column in settings.get("register_columns") or []:
            if not isinstance(column, dict):
                raise RulesError("each register column must be a mapping {label, field}")
            columns.append((str(column["label"]), str(column["field"])))
        note = settings.get("credentials_note")
        return AccessRules(
            chain=_steps(settings.get("approval_chain")),
            minimums={role: int(settings.get(key) or 0) for role, key in MINIMUM_KEYS.items()},
            platforms=tuple(Platform(key=str(p["key"]), label=str(p["label"]), kind=str(p.get("kind", "external")))
                            for p in settings.get("account_platforms") or []),
            forbidden=tuple(
                ForbiddenRule(conditions=tuple(sorted((k, str(v)) for k, v in rule.items()
                                                      if k not in ("clause", "message"))),
                              clause=str(rule["clause"]), message=rule.get("message"))
                for rule in settings.get("forbidden_requests") or []),
            request_form=request_form,
            columns=tuple(columns) or DEFAULT_COLUMNS,
            credentials_note=Note(text=str(note["text"]), clauses=tuple(str(c) for c in _tuple(note.get("clauses"))))
            if note else None,
            warning_days=int(settings.get("register_warning_days", DEFAULT_WARNING_DAYS)),
            register_clauses=tuple(str(c) for c in _tuple(settings.get("register_clauses"))),
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, RulesError):
            raise
        raise RulesError(f"register rules are malformed: {exc!r}") from exc


def rules_for(trust) -> AccessRules:
    """The register rules of a trust (from Trust.settings)."""
    return rules_from_settings(trust.settings or {})


def problems(settings: dict, role_scopes: dict[str, str]) -> list[str]:
    """What is wrong with a trust's register rules, given its roles (key → "trust" or "academy"); empty when usable."""
    try:
        rules = rules_from_settings(settings)
    except RulesError as exc:
        return [str(exc)]
    found = []
    for step in rules.chain:
        where = f"approval_chain step {step.index + 1} ({step.label})"
        if bool(step.relation) == bool(step.role):
            found.append(f"{where}: give exactly one of 'relation' or 'role'")
        if step.relation and step.relation not in RELATIONS:
            found.append(f"{where}: unknown relation {step.relation!r} (known: {', '.join(sorted(RELATIONS))})")
        for key in (step.role, step.central_role):
            if key and key not in role_scopes:
                found.append(f"{where}: the trust has no role {key!r}")
        # The central team's accounts belong to no academy, so an academy role cannot approve them.
        central = step.central_role or step.role
        if role_scopes.get(central) == "academy":
            found.append(f"{where}: role {central!r} is held per academy, so nobody could approve the central "
                         "team's accounts: add a trust-wide 'central_role'")
    for role, count in rules.minimums.items():
        if count < 0:
            found.append(f"{MINIMUM_KEYS[role]} must not be negative")
    kinds = {p.kind for p in rules.platforms}
    for rule in rules.forbidden:
        for key, value in rule.conditions:
            if key not in FORBIDDEN_CONDITIONS:
                found.append(f"forbidden_requests: unknown condition {key!r} "
                             f"(known: {', '.join(sorted(FORBIDDEN_CONDITIONS))})")
            if key == "platform_kind" and value not in kinds:
                found.append(f"forbidden_requests: no platform has kind {value!r}")
    if rules.request_form:
        keys = set()
        for item in rules.request_form.fields:
            if item.type not in FIELD_TYPES:
                found.append(f"request_form field {item.key!r}: unknown type {item.type!r}")
            if item.type == "choices" and not item.choices:
                found.append(f"request_form field {item.key!r}: a choices field needs choices")
            if item.after and item.after not in keys:
                found.append(f"request_form field {item.key!r}: 'after' must name an earlier date field")
            if item.key in keys:
                found.append(f"request_form field {item.key!r} appears twice")
            keys.add(item.key)
    for label, column in rules.columns:
        if column not in COLUMN_FIELDS:
            found.append(f"register column {label!r}: unknown field {column!r} "
                         f"(known: {', '.join(sorted(COLUMN_FIELDS))})")
    if len({label for label, _ in rules.columns}) != len(rules.columns):
        found.append("register columns must have distinct labels")
    return found
