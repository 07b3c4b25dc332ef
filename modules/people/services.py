"""People use-cases: trusts and roles from trusts.yaml, users, sign-in sessions. Add and flush; never commit."""

import hashlib
import secrets
from datetime import date, datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import bindparam, delete, exists, func, select, update
from sqlalchemy.orm import joinedload

from modules.core.capabilities import CAPABILITIES, PLATFORM_CAPABILITIES, check_known
from modules.core.database import reading
from modules.core.extensions import db
from modules.people import mfa, secretbox
from modules.people.models import (
    Academy,
    LoginSession,
    PasswordReset,
    RecoveryCode,
    Role,
    RoleAssignment,
    RoleChange,
    SecurityEvent,
    TotpCredential,
    Trust,
    User,
)
from modules.people.passwords import hash_password, needs_rehash, password_problem, verify_password
from modules.people.security import record_event
from modules.people.signals import password_changed, password_reset_requested, roles_changed, staff_left


class PeopleError(ValueError):
    """A people use-case was given something it cannot accept; the message is for the user."""


def trust_roles(config: dict, entry: dict) -> dict[str, dict]:
    """A trust's role catalogue: the default roles with the trust's relabels, aliases and additions."""
    roles = {key: dict(value) for key, value in config.get("default_roles", {}).items()}
    for key, override in (entry.get("roles") or {}).items():
        roles[key] = {**roles.get(key, {"scope": "trust", "capabilities": []}), **override}
    for key, role in roles.items():
        check_known(role.get("capabilities", []))
        reserved = sorted(set(role.get("capabilities", [])) & PLATFORM_CAPABILITIES)
        if reserved:
            raise PeopleError(f"role {key}: {', '.join(reserved)} is held only by platform administrators, "
                              "never by a trust's role")
        unknown = sorted(set(role.get("assignable_roles", [])) - roles.keys())
        if unknown:
            raise PeopleError(f"role {key}: assignable_roles names roles that do not exist: {', '.join(unknown)}")
        if role.get("scope", "trust") not in ("trust", "academy"):
            raise PeopleError(f"role {key}: scope must be 'trust' or 'academy'")
    return roles


#: Security events that load a trust's rules from a file (after them, the file's rules are the trust's again).
FILE_LOADS = ("rules-loaded-from-file", "trust-imported")


def rules_edited_here(trust: Trust) -> bool:
    """Whether the trust's rules were last changed in PolicyPass (the rules page) rather than loaded from a file."""
    def latest(kinds: tuple[str, ...]):
        return db.session.scalar(select(func.max(SecurityEvent.occurred_at)).where(
            SecurityEvent.trust_id == trust.id, SecurityEvent.kind.in_(kinds), SecurityEvent.outcome == "success"))

    edited = latest(("rules-changed",))
    loaded = latest(FILE_LOADS)
    return edited is not None and (loaded is None or edited > loaded)


def sync_trust(config: dict, entry: dict, *, keep_rules: bool = False) -> Trust:
    """Create or update one trust and its roles from its trusts.yaml entry (its rules too, unless `keep_rules`)."""
    trust = db.session.scalar(select(Trust).where(Trust.slug == entry["slug"]))
    if trust is None:
        trust = Trust(slug=entry["slug"])
        db.session.add(trust)
    trust.name = entry["name"]
    trust.short_name = entry.get("short_name", entry["name"])
    settings = dict(entry.get("rules") or {})  # defaults live in modules/people/rules.py, not in the database
    if trust.settings != settings and not (keep_rules and trust.id is not None):
        trust.settings = settings
    db.session.flush()
    existing = {r.key: r for r in db.session.scalars(select(Role).where(Role.trust_id == trust.id))}
    for key, spec in trust_roles(config, entry).items():
        role = existing.get(key) or Role(trust_id=trust.id, key=key)
        role.label = spec["label"]
        role.aliases = list(spec.get("aliases", []))
        role.capabilities = list(spec.get("capabilities", []))
        role.scope = spec.get("scope", "trust")
        role.assignable_roles = list(spec.get("assignable_roles", []))
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


#: Shortest and longest passwords accepted (NIST SP 800-63B: at least 8; we ask for 10).
PASSWORD_MIN, PASSWORD_MAX = 10, 200


def check_new_password(user: User, password: str) -> None:
    """Raise PeopleError when a new password is too short, too long, common or built from the person's details."""
    if len(password) < PASSWORD_MIN:
        raise PeopleError(f"Password must be {PASSWORD_MIN} characters or more")
    if len(password) > PASSWORD_MAX:
        raise PeopleError(f"Password must be {PASSWORD_MAX} characters or fewer")
    trust = db.session.get(Trust, user.trust_id)
    problem = password_problem(password, [user.name, user.email, trust.name, trust.short_name, trust.slug])
    if problem:
        raise PeopleError(problem)


def set_password(user: User, password: str) -> None:
    """Check the new password (length, common and breached passwords, the person's details) and store its hash.

    The checks and argon2 run in a read that holds no write lock (`reading()`); the hash is stored after.
    """
    store_password_hash(user, new_password_hash(user, password))


def store_password_hash(user: User, hashed: str) -> None:
    """Store a hash made by `new_password_hash` (the new password was checked when it was made)."""
    user.password_hash = hashed
    db.session.flush()


def new_password_hash(user: User, password: str) -> str:
    """The argon2 hash of an acceptable new password (else PeopleError), made in a read that holds no lock."""
    with reading():
        check_new_password(user, password)
        return hash_password(password)


def authenticate(email: str, password: str, *, allow_demo: bool = True) -> User | None:
    """The active user with this email and password, else None (the same answer for every failure).

    With allow_demo False (production configuration) an account made by `flask demo seed` never signs in.

    A hash made with older argon2 parameters is replaced with one made with the current parameters
    (the caller's transaction commits it).
    The hash is checked (0.3–0.8 s of argon2) in a read that takes no write lock (`reading()`); only then is
    the person read again in the caller's transaction, and refused if their hash or status changed meanwhile.
    """
    with reading():
        user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
        checked_hash = user.password_hash if user else None
        ok = verify_password(checked_hash, password)
        user_id = user.id if ok and user.active and (allow_demo or not user.demo) else None
        upgraded = hash_password(password) if user_id is not None and needs_rehash(checked_hash) else None
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.password_hash != checked_hash:
        return None
    if upgraded is not None:
        user.password_hash = upgraded
        db.session.flush()
    return user


def password_allowed(user: User) -> bool:
    """Whether the person may sign in with a password: always, unless their trust makes single sign-on the only
    way in for staff (trust rule `sso.required_for_staff`) and they hold no break-glass capability
    (`sso.password_capabilities`, by default trust administrators)."""
    sso = user.trust.rules.sso
    if sso is None or not sso.required_for_staff:
        return True
    return any(user.can(capability) for capability in sso.password_capabilities)


def find_user(email: str) -> User | None:
    """The person with this email address, if any (active or not)."""
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


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


@cache
def _session_and_user_query():
    # Built once (on first use, not at import: that would configure every mapper) and reused, so SQLAlchemy
    # neither rebuilds it nor works out its cache key on each request.
    report = User.__table__.alias("report")
    manages = exists().where(report.c.line_manager_id == User.id).label("manages")
    return (select(LoginSession, User, manages).join(User, User.id == LoginSession.user_id)
            .where(LoginSession.id == bindparam("session_id"))
            .options(joinedload(User.trust), joinedload(User.role_assignments).joinedload(RoleAssignment.role)))


def find_session_and_user(token: str | None, *, now: datetime, max_age: timedelta
                          ) -> tuple[LoginSession, User, bool] | None:
    """The live session for a cookie token with its person (their trust and roles loaded) and whether they
    line-manage anyone, in one statement (each request needs all of it); None when ended or too old."""
    if not token:
        return None
    found = db.session.execute(_session_and_user_query(), {"session_id": _token_id(token)}).unique().first()
    if found is None or found[0].created_at < now - max_age:
        return None
    return found[0], found[1], bool(found[2])


def reauthenticate(login_session: LoginSession, *, now: datetime) -> None:
    """Mark that the person has just proved who they are again."""
    login_session.authenticated_at = now
    db.session.flush()


def end_session_id(session_id: str) -> None:
    """Delete a server-side session by its id (the stored sha256)."""
    db.session.execute(delete(LoginSession).where(LoginSession.id == session_id))


def end_session(token: str | None) -> None:
    """Delete the server-side session so its cookie stops working."""
    if token:
        db.session.execute(delete(LoginSession).where(LoginSession.id == _token_id(token)))


def end_all_sessions(user: User) -> None:
    """Delete every session of a person (leavers, disabled accounts, password changes)."""
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))


def end_other_sessions(user: User, keep: LoginSession | None) -> None:
    """Delete every session of a person except the one they are using (after they change their password)."""
    query = delete(LoginSession).where(LoginSession.user_id == user.id)
    if keep is not None:
        query = query.where(LoginSession.id != keep.id)
    db.session.execute(query)


# ---- changing and resetting a password -----------------------------------------------------------------

#: At most this many reset links are sent to one person per hour; more asks get the same answer and no email.
RESETS_PER_HOUR = 3


def change_password(user: User, *, current: str, new: str, now: datetime, keep: LoginSession | None) -> None:
    """A signed-in person changes their password, giving the current one; their other sessions end."""
    with reading():  # argon2 twice (the current password, the new one) before the write lock is taken
        checked = user.password_hash
        if not verify_password(checked, current):
            raise PeopleError("Your current password is not correct")
        if current == new:
            raise PeopleError("Your new password must be different from your current one")
        hashed = new_password_hash(user, new)
    if user.password_hash != checked:  # read again under the lock: changed meanwhile (another device)
        raise PeopleError("Your password was changed meanwhile: check your current password and try again")
    store_password_hash(user, hashed)
    _cancel_resets(user, now)
    end_other_sessions(user, keep)
    record_event("password-changed", now=now, actor=user, target_user=user)
    password_changed.send(user, now=now, how="changed")


def request_password_reset(email: str, *, now: datetime, max_age: timedelta) -> tuple[User, str] | None:
    """A new single-use reset link's token for the active person with this email, or None.

    None for an unknown address, a leaver, or a person already sent RESETS_PER_HOUR links this hour; the
    caller gives the same answer either way, so the page does not tell anyone which addresses have accounts.
    """
    user = find_user(email)
    if user is None or not user.active:
        return None
    if not password_allowed(user):
        record_event("password-reset-requested", now=now, target_user=user, outcome="failure",
                     details={"reason": "the trust signs staff in with single sign-on only"})
        return None
    recent = db.session.scalar(select(func.count()).select_from(PasswordReset).where(
        PasswordReset.user_id == user.id, PasswordReset.created_at > now - timedelta(hours=1)))
    if recent >= RESETS_PER_HOUR:
        record_event("password-reset-requested", now=now, target_user=user, outcome="failure",
                     details={"reason": f"more than {RESETS_PER_HOUR} links asked for in an hour"})
        return None
    token = secrets.token_urlsafe(32)
    reset = PasswordReset(id=_token_id(token), user_id=user.id, created_at=now, expires_at=now + max_age)
    db.session.add(reset)
    db.session.flush()
    record_event("password-reset-requested", now=now, target_user=user)
    password_reset_requested.send(user, token=token, reset_id=reset.id, now=now, expires_at=reset.expires_at)
    return user, token


def find_password_reset(token: str, *, now: datetime) -> PasswordReset | None:
    """The reset a link's token is for, if it is genuine, unused, unexpired and its person still active."""
    if not token or len(token) > 200:
        return None
    reset = db.session.get(PasswordReset, _token_id(token))
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        return None
    user = db.session.get(User, reset.user_id)
    return reset if user is not None and user.active else None


def reset_password(reset: PasswordReset, password: str, *, now: datetime) -> User:
    """Set a new password from a reset link: the link (and any other open one) stops working, every session ends."""
    user = db.session.get(User, reset.user_id)
    set_password(user, password)
    if reset.used_at is not None or reset.expires_at <= now:  # read again under the lock, after argon2
        raise PeopleError("This link has already been used. Ask for a new one")
    _cancel_resets(user, now)
    end_all_sessions(user)
    record_event("password-reset", now=now, actor=user, target_user=user)
    password_changed.send(user, now=now, how="reset")
    return user


def _cancel_resets(user: User, now: datetime) -> None:
    db.session.execute(update(PasswordReset).where(PasswordReset.user_id == user.id,
                                                   PasswordReset.used_at.is_(None)).values(used_at=now))


# ---- two-step verification ------------------------------------------------------------------------------

def totp_credential(user: User) -> TotpCredential | None:
    """The person's authenticator app, if they have set one up."""
    return db.session.get(TotpCredential, user.id)


def has_two_step(user: User) -> bool:
    """Whether the person has two-step verification on."""
    return totp_credential(user) is not None


def two_step_required(user: User) -> bool:
    """Whether the person's trust requires two-step verification of them: they hold a capability the trust's
    `mfa_required_capabilities` rule names (by default, approving access and exporting personal data)."""
    trust = db.session.get(Trust, user.trust_id)
    return any(user.can(capability) for capability in trust.rules.mfa_required_capabilities)


def confirm_two_step(user: User, secret: str, code: str, *, now: datetime) -> list[str]:
    """Turn two-step verification on with the secret the person's app was given and a code from it.

    Returns new recovery codes, to show once (only their hashes are kept).
    """
    if totp_credential(user) is not None:
        raise PeopleError("Two-step verification is already on")
    step = mfa.matching_step(secret, code, now)
    if step is None:
        raise PeopleError("Enter the 6-digit code your authenticator app shows now")
    db.session.add(TotpCredential(user_id=user.id, secret=secretbox.seal(secret), enabled_at=now, last_step=step))
    codes = issue_recovery_codes(user, now=now, event=False)
    record_event("two-step-enrolled", now=now, actor=user, target_user=user)
    return codes


def issue_recovery_codes(user: User, *, now: datetime, event: bool = True) -> list[str]:
    """New one-time recovery codes for the person; earlier ones stop working. Only their hashes are stored."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = mfa.new_recovery_codes()
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=mfa.recovery_hash(code), created_at=now)
                       for code in codes)
    db.session.flush()
    if event:
        record_event("recovery-codes-issued", now=now, actor=user, target_user=user)
    return codes


def check_second_factor(user: User, code: str, *, now: datetime) -> str | None:
    """"totp" or "recovery" when the code is a fresh one from the app or an unused recovery code, else None.

    An app code is accepted once (a code seen at a step already used is refused); a recovery code is spent.
    """
    credential = totp_credential(user)
    if credential is None:
        return None
    try:
        secret = secretbox.unseal(credential.secret)
    except secretbox.UnreadableSecret:  # the key changed: only a recovery code can sign them in now
        current_app.logger.error("two-step secret of person %s cannot be decrypted with the configured key", user.id)
        secret = None
    step = mfa.matching_step(secret, code, now) if secret is not None else None
    if step is not None:
        if credential.last_step is not None and step <= credential.last_step:
            return None
        credential.last_step = step
        db.session.flush()
        return "totp"
    recovery = db.session.scalar(select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == mfa.recovery_hash(code),
        RecoveryCode.used_at.is_(None)))
    if recovery is None:
        return None
    recovery.used_at = now
    db.session.flush()
    return "recovery"


def unused_recovery_codes(user: User) -> int:
    """How many of the person's recovery codes are still unused."""
    return db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))


def disable_two_step(user: User, *, password: str, now: datetime) -> None:
    """Turn two-step verification off, giving the password; refused when the trust requires it of them."""
    if two_step_required(user):
        raise PeopleError("Your trust requires two-step verification for your role, so it cannot be turned off")
    with reading():  # argon2 before the write lock is taken
        if not verify_password(user.password_hash, password):
            raise PeopleError("Your password is not correct")
    db.session.execute(delete(TotpCredential).where(TotpCredential.user_id == user.id))
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    record_event("two-step-disabled", now=now, actor=user, target_user=user)


def mark_left(user: User, *, on: date, now: datetime) -> None:
    """A leaver: no more sign-in (every session ends), out of dashboards; their history stays."""
    user.active, user.left_on = False, on
    end_all_sessions(user)
    db.session.flush()
    staff_left.send(user, now=now)
# ---- who may give which role (the one check the import, the UI and the CLI all use) ------------------

def held_capabilities(user: User) -> set[str]:
    """Every capability the person holds anywhere in their trust (trust-wide or for any academy)."""
    caps: set[str] = set()
    for assignment in user.role_assignments:
        caps.update(assignment.role.capabilities)
    return caps


def may_assign(actor: User, role: Role) -> bool:
    """Whether the actor may give the role: they hold every capability it carries, or a role of theirs lists it
    under assignable_roles in trusts.yaml. Nobody else, so no one can hand out more than they have."""
    if role.trust_id != actor.trust_id:
        return False
    if set(role.capabilities) <= held_capabilities(actor):
        return True
    return any(role.key in (a.role.assignable_roles or []) for a in actor.role_assignments)


def role_refusal(actor: User, role: Role, target: User | None = None) -> str | None:
    """Why the actor may not give the role (to the target, if known), as a sentence end; None when they may."""
    if target is not None and target.id == actor.id:
        return f"gives you the role “{role.label}”: nobody can change their own roles, ask another administrator"
    if not may_assign(actor, role):
        missing = sorted(set(role.capabilities) - held_capabilities(actor))
        what = "; ".join(CAPABILITIES[c] for c in missing)
        return (f"gives the role “{role.label}”, which you cannot give: it allows things you do not have "
                f"permission for ({what})")
    return None


def can_manage(actor: User, user: User) -> bool:
    """Whether the actor may change this person's roles or mark them as a leaver: not themselves, and only
    someone every one of whose roles the actor may give."""
    if user.id == actor.id:
        return False
    return all(may_assign(actor, a.role) for a in user.role_assignments)


def role_keys(user: User) -> list[str]:
    """The roles a person holds, sorted: "key" trust-wide, "key@academy-slug" for one academy."""
    return sorted(a.role.key + (f"@{a.academy.slug}" if a.academy_id else "") for a in user.role_assignments)


def record_role_change(user: User, *, actor: User | None, before: list[str], source: str,
                       now: datetime) -> RoleChange | None:
    """Record (and ledger, via roles_changed) a change from `before` to the person's roles now; None if unchanged."""
    after = role_keys(user)
    if after == sorted(before):
        return None
    change = RoleChange(trust_id=user.trust_id, user_id=user.id, actor_id=actor.id if actor else None,
                        source=source, before=" ".join(sorted(before)), after=" ".join(after), created_at=now)
    db.session.add(change)
    db.session.flush()
    roles_changed.send(change, now=now)
    record_event("role-changed", now=now, actor=actor, target_user=user, trust_id=user.trust_id,
                 details={"roles_before": change.before.split(), "roles_after": after, "source": source})
    return change


def revoke_role(user: User, role_key: str, academy: Academy | None = None) -> bool:
    """Take a role away (for the academy, for academy-scoped roles); True if the person held it."""
    for assignment in list(user.role_assignments):
        if assignment.role.key == role_key and (academy is None or assignment.academy_id in (None, academy.id)):
            user.role_assignments.remove(assignment)
            db.session.flush()
            return True
    return False


def change_roles(actor: User, user: User, role_keys_wanted: list[str], *, source: str,
                 now: datetime) -> RoleChange | None:
    """Give the person exactly these roles (academy roles at their academy), checked as the import checks them:
    nobody changes their own roles, nor those of someone holding a role they cannot give, nor gives or takes a
    role they cannot give (`role_refusal`). Recorded and ledgered as a role change; PeopleError (nothing changed)
    when refused; None when nothing changed."""
    if user.trust_id != actor.trust_id:
        raise PeopleError("That person is not in your trust")
    roles = {r.key: r for r in db.session.scalars(select(Role).where(Role.trust_id == user.trust_id))}
    unknown = sorted(set(role_keys_wanted) - roles.keys())
    if unknown:
        raise PeopleError(f"Your trust has no role “{unknown[0]}”")
    held = {a.role.key for a in user.role_assignments}
    wanted = set(role_keys_wanted)
    changed = sorted(held ^ wanted)
    if not changed:
        return None

    def refused(key: str, why: str) -> PeopleError:
        if key not in wanted:
            why = why.replace("gives you the role", "takes away your role").replace("gives the role",
                                                                                   "takes away the role")
        return PeopleError(f"Refused: this {why}. Nothing was changed.")

    if user.id == actor.id:
        raise refused(changed[0], role_refusal(actor, roles[changed[0]], user))
    if not can_manage(actor, user):
        raise PeopleError(f"You cannot change the roles of {user.name}: they hold a role you cannot give. Ask your "
                          "trust administrator.")
    for key in changed:
        refusal = role_refusal(actor, roles[key], user)
        if refusal is not None:
            raise refused(key, refusal)
    before = role_keys(user)
    academy = db.session.get(Academy, user.academy_id) if user.academy_id else None
    for key in sorted(held - wanted):
        while revoke_role(user, key):  # held for more than one academy: every one goes
            pass
    for key in sorted(wanted - held):
        grant_role(user, key, academy)
    return record_role_change(user, actor=actor, before=before, source=source, now=now)
