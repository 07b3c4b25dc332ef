"""People use-cases: trusts and roles from trusts.yaml, users, sign-in sessions. Add and flush; never commit."""

import hashlib
import secrets
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select

from modules.core.capabilities import check_known
from modules.core.extensions import db
from modules.people.models import Academy, LoginSession, Role, RoleAssignment, Trust, User
from modules.people.passwords import hash_password, verify_password


class PeopleError(ValueError):
    """A people use-case was given something it cannot accept; the message is for the user."""


def trust_settings(config: dict, entry: dict) -> dict:
    """A trust's rules: the defaults from trusts.yaml overridden by its own."""
    settings = dict(config.get("default_rules", {}))
    settings.update(entry.get("rules", {}))
    return settings


def trust_roles(config: dict, entry: dict) -> dict[str, dict]:
    """A trust's role catalogue: the default roles with the trust's relabels, aliases and additions."""
    roles = {key: dict(value) for key, value in config.get("default_roles", {}).items()}
    for key, override in (entry.get("roles") or {}).items():
        roles[key] = {**roles.get(key, {"scope": "trust", "capabilities": []}), **override}
    for key, role in roles.items():
        check_known(role.get("capabilities", []))
        if role.get("scope", "trust") not in ("trust", "academy"):
            raise PeopleError(f"role {key}: scope must be 'trust' or 'academy'")
    return roles


def sync_trust(config: dict, entry: dict) -> Trust:
    """Create or update one trust and its roles from its trusts.yaml entry."""
    trust = db.session.scalar(select(Trust).where(Trust.slug == entry["slug"]))
    if trust is None:
        trust = Trust(slug=entry["slug"])
        db.session.add(trust)
    trust.name = entry["name"]
    trust.short_name = entry.get("short_name", entry["name"])
    settings = trust_settings(config, entry)
    if trust.settings != settings:
        trust.settings = settings
    db.session.flush()
    existing = {r.key: r for r in db.session.scalars(select(Role).where(Role.trust_id == trust.id))}
    for key, spec in trust_roles(config, entry).items():
        role = existing.get(key) or Role(trust_id=trust.id, key=key)
        role.label = spec["label"]
        role.aliases = list(spec.get("aliases", []))
        role.capabilities = list(spec.get("capabilities", []))
        role.scope = spec.get("scope", "trust")
        db.session.add(role)
    db.session.flush()
    return trust


def ensure_academy(trust: Trust, slug: str, name: str) -> Academy:
    """Get or create an academy of the trust by slug."""
    academy = db.session.scalar(select(Academy).where(Academy.trust_id == trust.id, Academy.slug == slug))
    if academy is None:
        academy = Academy(trust_id=trust.id, slug=slug, name=name)
        db.session.add(academy)
        db.session.flush()
    return academy


def normalise_email(email: str) -> str:
    """Emails are compared case-insensitively and without surrounding spaces."""
    return email.strip().lower()


def upsert_user(trust: Trust, *, email: str, name: str, now: datetime, job_title: str = "",
                department: str = "", academy: Academy | None = None, line_manager: User | None = None,
                start_date: date | None = None, password_hash: str | None = None) -> User:
    """Create or update a person of the trust, matched by email."""
    email = normalise_email(email)
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None and user.trust_id != trust.id:
        raise PeopleError(f"{email} already belongs to another trust")
    if user is None:
        user = User(trust_id=trust.id, email=email, created_at=now)
        db.session.add(user)
    user.name, user.job_title, user.department = name, job_title, department
    user.academy_id = academy.id if academy else None
    user.line_manager_id = line_manager.id if line_manager else None
    user.start_date = start_date
    if password_hash is not None:
        user.password_hash = password_hash
    db.session.flush()
    return user


def grant_role(user: User, role_key: str, academy: Academy | None = None) -> RoleAssignment:
    """Give a person a role of their trust (academy-scoped roles need an academy)."""
    role = db.session.scalar(select(Role).where(Role.trust_id == user.trust_id, Role.key == role_key))
    if role is None:
        raise PeopleError(f"the trust has no role '{role_key}'")
    academy_id = academy.id if (academy and role.scope == "academy") else None
    for assignment in user.role_assignments:
        if assignment.role_id == role.id and assignment.academy_id == academy_id:
            return assignment
    assignment = RoleAssignment(user_id=user.id, role_id=role.id, academy_id=academy_id)
    user.role_assignments.append(assignment)
    db.session.flush()
    return assignment


def set_password(user: User, password: str) -> None:
    """Store a new argon2id hash of the password."""
    if len(password) < 10:
        raise PeopleError("Password must be 10 characters or more")
    user.password_hash = hash_password(password)
    db.session.flush()


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, else None (the same answer for every failure)."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    ok = verify_password(user.password_hash if user else None, password)
    return user if ok and user.active else None


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User, *, now: datetime, method: str, ip: str | None, user_agent: str | None) -> str:
    """Record a server-side session and return the token for the cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(LoginSession(id=_token_id(token), user_id=user.id, authenticated_at=now, method=method,
                                ip_address=ip, user_agent=(user_agent or "")[:400], created_at=now))
    db.session.flush()
    return token


def find_session(token: str | None, *, now: datetime, max_age: timedelta) -> LoginSession | None:
    """The live session for a cookie token, or None when ended or too old."""
    if not token:
        return None
    found = db.session.get(LoginSession, _token_id(token))
    if found is None or found.created_at < now - max_age:
        return None
    return found


def reauthenticate(login_session: LoginSession, *, now: datetime) -> None:
    """Mark that the person has just proved who they are again."""
    login_session.authenticated_at = now
    db.session.flush()


def end_session(token: str | None) -> None:
    """Delete the server-side session so its cookie stops working."""
    if token:
        db.session.execute(delete(LoginSession).where(LoginSession.id == _token_id(token)))


def end_all_sessions(user: User) -> None:
    """Delete every session of a person (leavers, disabled accounts, password changes)."""
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
