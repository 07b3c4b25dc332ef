"""Setting up a trust without a developer: the platform's own trust and its administrators, new trusts, their
academies and first trust administrator, the trust's rules edited in the browser, and trusts.yaml export and
import. Add and flush; never commit.

A platform administrator is a person of the platform's own trust (`Trust.platform`), holding its only role,
`platform_admin` (capability `platform:manage`). That trust has no staff, academies or policy, so every ordinary
page, scoped to the person's own trust, shows a platform administrator no trust's staff data; the platform pages
show trusts, academies and the people they invited, and nothing else.

Rules are checked by the one typed object, `TrustRules` (modules/people/rules.py), exactly as `flask content
sync` checks trusts.yaml: a page or an import never has a validation of its own.
"""

import re
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from modules.core.extensions import db
from modules.core.inputs import has_control_characters
from modules.people.importer import set_password_token
from modules.people.models import Academy, Role, Trust, User
from modules.people.rules import RulesError, TrustRules
from modules.people.security import record_event
from modules.people.services import (
    PeopleError,
    grant_role,
    normalise_email,
    sync_trust,
    upsert_user,
)
from modules.people.signals import staff_invited
from modules.policies.models import Clause, PolicyVersion

#: The platform's own trust.
PLATFORM_SLUG = "platform"
PLATFORM_NAME = "PolicyPass platform"
#: Its one role.
PLATFORM_ROLE = "platform_admin"
PLATFORM_ROLE_SPEC = {"label": "Platform administrator", "scope": "trust", "capabilities": ["platform:manage"]}
#: The platform's rules: its administrators always use two-step verification (when it is enforced).
PLATFORM_RULES = {"mfa_required_capabilities": ["platform:manage"]}
#: The role a trust's first administrator is given.
TRUST_ADMIN_ROLE = "trust_admin"
#: A trust's slug: lower-case letters, digits and single hyphens, 2–40 characters (it goes in addresses).
SLUG_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){1,39}")
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
#: The keys of a role that trusts.yaml may give (a relabel, aliases, or a whole role).
ROLE_KEYS = ("label", "aliases", "scope", "capabilities", "assignable_roles")


#: app.extensions key: `check(trust, n) -> list[str]`, why the trust's published quiz cannot ask n questions per
#: attempt (assessments' answer, passed in by modules/wiring.py: platform cannot import it).
DRAW_CHECK = "policypass_quiz_draw_check"


def use_draw_check(app, check) -> None:
    """Refuse a quiz size the trust's published quiz cannot draw (the check is assessments')."""
    app.extensions[DRAW_CHECK] = check


class PlatformError(ValueError):
    """A platform or rules change was refused; the message says what to fix and names the field, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


# --------------------------------------------------------------------------- the platform's own trust


def platform_trust() -> Trust | None:
    """The platform's own trust, if it has been made."""
    return db.session.scalar(select(Trust).where(Trust.platform.is_(True)))


def ensure_platform_trust() -> Trust:
    """The platform's own trust and its one role, made the first time."""
    trust = platform_trust()
    if trust is None:
        if db.session.scalar(select(Trust.id).where(Trust.slug == PLATFORM_SLUG)):
            raise PlatformError(f"A school trust already uses the slug {PLATFORM_SLUG!r}, which the platform "
                                "needs: rename that trust first")
        trust = Trust(slug=PLATFORM_SLUG, name=PLATFORM_NAME, short_name="Platform", platform=True,
                      settings=dict(PLATFORM_RULES))
        db.session.add(trust)
        db.session.flush()
    role = db.session.scalar(select(Role).where(Role.trust_id == trust.id, Role.key == PLATFORM_ROLE))
    if role is None:
        db.session.add(Role(trust_id=trust.id, key=PLATFORM_ROLE, label=PLATFORM_ROLE_SPEC["label"],
                            aliases=[], capabilities=list(PLATFORM_ROLE_SPEC["capabilities"]), scope="trust",
                            assignable_roles=[]))
        db.session.flush()
    return trust


def create_platform_admin(*, email: str, name: str, now: datetime) -> User:
    """A new platform administrator (a person of the platform's trust, role `platform_admin`); invited to set a
    password with the usual set-password email."""
    email, name = _email(email), _text(name, "name", "Enter their full name")
    trust = ensure_platform_trust()
    existing = db.session.scalar(select(User).where(User.email == email))
    if existing is not None and existing.trust_id != trust.id:
        raise PlatformError(f"{email} is already a person of a trust; a platform administrator needs an address "
                            "of their own", field="email")
    user = existing or upsert_user(trust, email=email, name=name, now=now)
    grant_role(user, PLATFORM_ROLE)
    record_event("platform-admin-created", now=now, trust_id=trust.id, target_user=user, target=email)
    return user


def invite(user: User, *, now: datetime) -> None:
    """Send the person the set-password invitation (the staff import's email, through the outbox)."""
    staff_invited.send(user, token=set_password_token(user), now=now)


def invitation_link(user: User) -> str:
    """The one-time set-password address for the person (printed by the CLI beside the email it sends)."""
    from modules.core.links import absolute

    return absolute("auth.set_password", token=set_password_token(user))


# --------------------------------------------------------------------------- trusts, academies, first admin


def _text(value: str | None, field: str, empty: str, *, longest: int = 200) -> str:
    value = (value or "").strip()
    if not value:
        raise PlatformError(empty, field=field)
    if has_control_characters(value):
        raise PlatformError(f"The {field.replace('_', ' ')} must be on one line, with no control characters",
                            field=field)
    if len(value) > longest:
        raise PlatformError(f"The {field.replace('_', ' ')} must be {longest} characters or fewer", field=field)
    return value


def _email(value: str | None) -> str:
    email = normalise_email(value or "")
    if not email:
        raise PlatformError("Enter their email address", field="email")
    if has_control_characters(email) or not EMAIL_PATTERN.fullmatch(email) or len(email) > 254:
        raise PlatformError("Enter an email address in the correct format, like name@example.org", field="email")
    return email


def _slug(value: str | None, field: str = "slug") -> str:
    slug = (value or "").strip()
    if not slug:
        raise PlatformError("Enter the trust's slug", field=field)
    if not SLUG_PATTERN.fullmatch(slug):
        raise PlatformError("The slug must be 2 to 40 lower-case letters, digits and single hyphens, starting and "
                            "ending with a letter or digit, like “north-downs”", field=field)
    return slug


def default_roles() -> dict:
    """The role catalogue every trust starts with (`default_roles` in content/trusts.yaml)."""
    from pathlib import Path

    from modules.policies.services import load_trusts_yaml

    return load_trusts_yaml(Path(current_app.config["CONTENT_DIR"])).get("default_roles", {})


def create_trust(*, slug: str, name: str, short_name: str, actor: User | None, now: datetime) -> Trust:
    """A new trust with the default role catalogue and default rules; refused for a bad or taken slug."""
    slug = _slug(slug)
    name = _text(name, "name", "Enter the trust's full name")
    short_name = _text(short_name, "short_name", "Enter the trust's short name", longest=40)
    if slug == PLATFORM_SLUG or db.session.scalar(select(Trust.id).where(Trust.slug == slug)):
        raise PlatformError(f"A trust with the slug “{slug}” already exists: choose another", field="slug")
    trust = sync_trust({"default_roles": default_roles()},
                       {"slug": slug, "name": name, "short_name": short_name, "policy": {"versions": []}})
    from modules.policies.services import ensure_default_series

    ensure_default_series(trust, now=now)
    record_event("trust-created", now=now, actor=actor, trust_id=trust.id, target=f"{name} ({slug})")
    return trust


def school_trusts() -> list[Trust]:
    """Every school trust (not the platform's own), by name."""
    return list(db.session.scalars(select(Trust).where(Trust.platform.is_(False)).order_by(Trust.name)))


def school_trust(slug: str) -> Trust | None:
    """The school trust with this slug, if any (never the platform's own)."""
    return db.session.scalar(select(Trust).where(Trust.slug == slug, Trust.platform.is_(False)))


def slugify(name: str) -> str:
    """An academy slug from its name: "North Park Academy" → "north-park-academy"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:80] or "academy"


def add_academy(trust: Trust, *, name: str, actor: User | None, now: datetime) -> Academy:
    """A new academy of the trust; refused for an empty name or one the trust already has."""
    name = _text(name, "name", "Enter the academy's name")
    slug = slugify(name)
    taken = db.session.scalar(select(Academy).where(Academy.trust_id == trust.id, Academy.slug == slug))
    if taken is not None:
        raise PlatformError(f"{trust.short_name} already has an academy called “{taken.name}”", field="name")
    academy = Academy(trust_id=trust.id, slug=slug, name=name)
    db.session.add(academy)
    db.session.flush()
    record_event("academy-added", now=now, actor=actor, trust_id=trust.id, target=f"{name} ({slug})")
    return academy


def invite_trust_admin(trust: Trust, *, email: str, name: str, actor: User | None, now: datetime) -> User:
    """The trust's administrator (role `trust_admin`, central team), sent the set-password invitation email."""
    email, name = _email(email), _text(name, "name", "Enter their full name")
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise PlatformError(f"{email} already has an account: invite someone else, or ask their trust "
                            "administrator to give them the role", field="email")
    try:
        user = upsert_user(trust, email=email, name=name, now=now, job_title="Trust administrator")
        grant_role(user, TRUST_ADMIN_ROLE)
    except PeopleError as exc:
        raise PlatformError(str(exc), field="email") from exc
    invite(user, now=now)
    record_event("trust-admin-invited", now=now, actor=actor, trust_id=trust.id, target_user=user, target=email)
    return user


def invited_admins(trust: Trust) -> list[User]:
    """The trust's administrators (only their names and addresses are shown to the platform)."""
    role = db.session.scalar(select(Role).where(Role.trust_id == trust.id, Role.key == TRUST_ADMIN_ROLE))
    if role is None:
        return []
    return [u for u in db.session.scalars(select(User).where(User.trust_id == trust.id).order_by(User.name))
            if any(a.role_id == role.id for a in u.role_assignments)]


# --------------------------------------------------------------------------- rules edited in the browser


def rules_version(trust: Trust) -> PolicyVersion | None:
    """The version whose clauses rules are picked from: the newest draft, else the published one, of the policy
    that gates the register (the rules are that policy's)."""
    from modules.policies.queries import register_series

    series = register_series(trust.id)
    query = select(PolicyVersion).where(PolicyVersion.trust_id == trust.id,
                                        PolicyVersion.status.in_(("draft", "published")))
    order = PolicyVersion.number.desc()
    # The register's policy first; while it has no version yet, the trust's newest of any policy.
    found = db.session.scalar(query.where(PolicyVersion.series_id == (series.id if series else None))
                              .order_by(order).limit(1))
    return found or db.session.scalar(query.order_by(order).limit(1))


def clauses_of(version: PolicyVersion | None) -> list[Clause]:
    """The version's clauses in document order (none without a version)."""
    if version is None:
        return []
    return list(db.session.scalars(select(Clause).where(Clause.version_id == version.id).order_by(Clause.id)))


def role_scopes(trust: Trust) -> dict[str, str]:
    """The trust's role keys and their scopes ("trust" or "academy")."""
    return {r.key: r.scope for r in db.session.scalars(select(Role).where(Role.trust_id == trust.id))}


def checked_rules(trust: Trust, mapping: dict) -> TrustRules:
    """`mapping` as the trust's TrustRules, checked as `flask content sync` checks trusts.yaml: the typed object,
    its roles, and every clause it quotes against the trust's policy. PlatformError naming the rule, else."""
    try:
        rules = TrustRules.from_mapping(mapping)
    except RulesError as exc:
        raise PlatformError(exc.message, field=exc.key) from exc
    for key, problem in rules.role_problems(role_scopes(trust)):
        raise PlatformError(problem, field=key)
    version = rules_version(trust)
    refs = {c.ref for c in clauses_of(version)}
    if rules.register_policy:
        from modules.policies.queries import series_by_slug

        if series_by_slug(trust.id, rules.register_policy) is None:
            raise PlatformError(f"The trust has no policy with the short name {rules.register_policy!r}",
                                field="register_policy")
    for key, ref in rules.clause_refs():
        if ref not in refs:
            where = f"its {version.label}" if version else "it (the trust has no policy yet)"
            raise PlatformError(f"The policy has no clause {ref!r}: choose one of the clauses of {where}", field=key)
    return rules


def change_rules(trust: Trust, changes: dict, *, actor: User, now: datetime) -> list[str]:
    """Set some of the trust's rules (a value of None returns a rule to its default), checked by TrustRules;
    a rule whose typed value does not change keeps its stored form. Returns the rules changed (audited)."""
    before = dict(trust.settings or {})
    old = trust.rules
    mapping = dict(before)
    for key, value in changes.items():
        if value is None:
            mapping.pop(key, None)
        else:
            mapping[key] = value
    new = checked_rules(trust, mapping)
    changed = sorted(key for key in changes if getattr(new, key) != getattr(old, key)
                     or (key == "sources" and new.sources != old.sources))
    if not changed:
        return []
    check = current_app.extensions.get(DRAW_CHECK)
    if "quiz_questions" in changed and check is not None:
        for problem in check(trust, new.quiz_questions):
            raise PlatformError(problem, field="quiz_questions")
    settings = {**before}
    for key in changed:
        if key in mapping:
            settings[key] = mapping[key]
        else:
            settings.pop(key, None)
    trust.settings = settings
    db.session.flush()
    record_event("rules-changed", now=now, actor=actor, trust_id=trust.id, target=", ".join(changed),
                 details={"before": {k: before.get(k) for k in changed}, "after": {k: settings.get(k) for k in changed}})
    return changed


# --------------------------------------------------------------------------- trusts.yaml export and import


def _role_overrides(trust: Trust, defaults: dict) -> dict:
    """What the trust's roles change of the default catalogue, as trusts.yaml writes it."""
    overrides = {}
    for role in db.session.scalars(select(Role).where(Role.trust_id == trust.id).order_by(Role.id)):
        spec = defaults.get(role.key)
        mine = {"label": role.label, "aliases": list(role.aliases or []), "scope": role.scope,
                "capabilities": list(role.capabilities or []), "assignable_roles": list(role.assignable_roles or [])}
        if spec is None:
            overrides[role.key] = {k: v for k, v in mine.items() if v or k in ("label", "scope")}
            continue
        base = {"label": spec.get("label"), "aliases": list(spec.get("aliases", [])),
                "scope": spec.get("scope", "trust"), "capabilities": list(spec.get("capabilities", [])),
                "assignable_roles": list(spec.get("assignable_roles", []))}
        changed = {k: mine[k] for k in ROLE_KEYS if mine[k] != base[k]}
        if changed:
            overrides[role.key] = changed
    return overrides


def export_trust(trust: Trust, *, defaults: dict | None = None) -> dict:
    """The trust as a trusts.yaml entry: names, policy files, role changes and rules as stored."""
    from pathlib import Path

    content = Path(current_app.config["CONTENT_DIR"])
    files = [v.source_file for v in db.session.scalars(select(PolicyVersion).where(
        PolicyVersion.trust_id == trust.id).order_by(PolicyVersion.number)) if (content / v.source_file).is_file()]
    entry = {"slug": trust.slug, "name": trust.name, "short_name": trust.short_name,
             "policy": {"versions": [{"file": f} for f in dict.fromkeys(files)]}}
    from modules.policies.queries import series_of

    series = series_of(trust.id)
    if len(series) > 1 or any(s.audience_roles or s.audience_academies for s in series):
        entry["policy"]["series"] = [
            {"slug": s.slug, "title": s.title,
             **({"audience": {k: v for k, v in (("roles", s.audience_roles), ("academies", s.audience_academies))
                              if v}} if s.audience_roles or s.audience_academies else {})} for s in series]
    roles = _role_overrides(trust, default_roles() if defaults is None else defaults)
    if roles:
        entry["roles"] = roles
    if trust.settings:
        entry["rules"] = dict(trust.settings)
    return entry


def import_trusts(document: dict, *, source: str, actor: User | None, now: datetime) -> list[Trust]:
    """Load trusts from a trusts.yaml-shaped document (`trusts:`, optional `default_roles:`): each trust, its
    roles and rules, checked exactly as `flask content sync` checks them. Policy files are not read here: the
    content sync or the upload page loads versions. PlatformError naming the trust and key, and nothing kept."""
    from pathlib import Path

    from modules.policies.services import ContentError, check_rules, sync_series

    if not isinstance(document, dict) or not isinstance(document.get("trusts"), list):
        raise PlatformError(f"{source}: expected a mapping with a 'trusts' list")
    config = {"default_roles": document.get("default_roles") or default_roles()}
    trusts = []
    for entry in document["trusts"]:
        if not isinstance(entry, dict) or not all(k in entry for k in ("slug", "name", "policy")):
            raise PlatformError(f"{source}: every trust entry needs 'slug', 'name' and 'policy'")
        slug = _slug(entry["slug"])
        if slug == PLATFORM_SLUG:
            raise PlatformError(f"{source}: {slug!r} is the platform's own trust and cannot be imported")
        _text(entry["name"], "name", "a trust needs a name")
        # Logos are files under content/, as for trusts.yaml itself.
        beside = Path(current_app.config["CONTENT_DIR"]) / "trusts.yaml"
        try:
            check_rules(beside, config, entry)
        except ContentError as exc:
            raise PlatformError(str(exc).replace(str(beside), source)) from exc
        existing = db.session.scalar(select(Trust).where(Trust.slug == slug))
        before = dict(existing.settings or {}) if existing is not None else None
        trust = sync_trust(config, entry)
        try:
            sync_series(trust, entry["policy"].get("series") if isinstance(entry["policy"], dict) else None,
                        now=now, where=f"{source}, trust {slug}")
        except ContentError as exc:
            raise PlatformError(str(exc)) from exc
        try:
            checked_rules(trust, dict(trust.settings or {}))
        except PlatformError as exc:
            raise PlatformError(f"{source}, trust {slug}, rules.{exc.field}: {exc.message}") from exc
        record_event("trust-imported", now=now, actor=actor, trust_id=trust.id, target=source[:300],
                     details={"created": existing is None, "rules_changed": before != trust.settings})
        trusts.append(trust)
    return trusts
