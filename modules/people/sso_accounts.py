"""Single sign-on use-cases: who a checked identity from the trust's provider is in PolicyPass. Add and flush.

A person is matched by the provider's stable subject id, stored on their first single sign-on. Only that first
time is the email address used, and only to link an account HR already made (an invited or existing member of
the trust), for an address the provider says is verified, in one of the trust's allowed domains. Nobody is
created here: someone with no account is refused.
"""

from datetime import datetime

from sqlalchemy import select

from modules.core.extensions import db
from modules.people.models import SsoIdentity, Trust, User
from modules.people.security import record_event
from modules.people.services import find_user
from modules.people.sso import Identity, SsoFailure

NO_ACCOUNT = ("You do not have a PolicyPass account at {trust} yet, so you cannot sign in. Ask your HR team to add "
              "you: they will send you an invitation.")


def sso_user(trust: Trust, identity: Identity, *, now: datetime, allow_demo: bool = True) -> User:
    """The trust's person this identity belongs to, linking it on their first sign-in; SsoFailure otherwise."""
    found = db.session.scalar(select(SsoIdentity).where(
        SsoIdentity.trust_id == trust.id, SsoIdentity.issuer == identity.issuer,
        SsoIdentity.subject == identity.subject))
    if found is not None:
        user = db.session.get(User, found.user_id)
        _check_may_sign_in(user, trust, allow_demo)
        found.last_used_at = now
        db.session.flush()
        return user
    user = _invited_account(trust, identity, allow_demo)
    db.session.add(SsoIdentity(user_id=user.id, trust_id=trust.id, issuer=identity.issuer,
                               subject=identity.subject, created_at=now, last_used_at=now))
    db.session.flush()
    record_event("sso-linked", now=now, actor=user, target_user=user,
                 details={"issuer": identity.issuer})
    return user


def _invited_account(trust: Trust, identity: Identity, allow_demo: bool) -> User:
    """The account a first sign-in may link to by email address, or SsoFailure saying why not."""
    rules = trust.rules.sso
    no_account = SsoFailure("no account", NO_ACCOUNT.format(trust=trust.short_name), 403)
    if identity.email is None:
        raise SsoFailure("no email address from the provider", no_account.message, 403)
    if not identity.email_verified:
        raise SsoFailure("email address not verified by the provider",
                         "Your sign-in provider did not confirm your email address, so PolicyPass cannot tell "
                         "which account is yours. Ask your IT team.", 403)
    domain = identity.email.rpartition("@")[2]
    if domain not in rules.email_domains:
        raise SsoFailure(f"email domain {domain!r} not allowed",
                         f"Your email address is not one of {trust.short_name}'s. Sign in with the account your "
                         "school or trust gave you.", 403)
    user = find_user(identity.email)
    if user is None or user.trust_id != trust.id:
        raise no_account
    _check_may_sign_in(user, trust, allow_demo)
    linked = db.session.scalar(select(SsoIdentity).where(SsoIdentity.user_id == user.id,
                                                         SsoIdentity.issuer == identity.issuer))
    if linked is not None:
        raise SsoFailure("account already linked to another subject",
                         "Your PolicyPass account is already linked to a different account at your provider. "
                         "Sign in with that one, or ask your trust administrator.", 403)
    return user


def _check_may_sign_in(user: User | None, trust: Trust, allow_demo: bool) -> None:
    if user is None or not user.active or user.trust_id != trust.id or (user.demo and not allow_demo):
        raise SsoFailure("leaver or disabled account",
                         "Your PolicyPass account is closed, so you cannot sign in. If you think this is wrong, "
                         "ask your HR team.", 403)
