"""LTI use-cases: register a platform, match or provision the person a launch names, remember the course and
line item, and owe the platform a score when the person acknowledges. Add and flush; never commit."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask import g, has_request_context
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from modules.core.extensions import db
from modules.lti.errors import LaunchRefused
from modules.lti.models import LtiAccount, LtiCourse, LtiGradeLink, LtiPlatform, LtiScore
from modules.people.importer import EMAIL_RE
from modules.people.models import Academy, Trust, User
from modules.people.services import PeopleError, grant_role, normalise_email
from modules.people.signals import staff_imported

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
#: Where a person whose platform gives no email is filed (the address can never receive mail).
NO_EMAIL_DOMAIN = "lti.invalid"


class RegistrationError(ValueError):
    """A platform registration that cannot be used; the message says why."""


@dataclass(frozen=True)
class PlatformValues:
    """What a trust administrator copies from the LMS to register it."""

    name: str
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    deployment_ids: tuple[str, ...]


def _check_url(label: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise RegistrationError(f"{label} must be a full web address starting https://, not “{value}”")
    return value


def register_platform(trust: Trust, values: PlatformValues, *, now: datetime,
                      academy: Academy | None = None) -> LtiPlatform:
    """Register an LMS for the trust; RegistrationError when a value is unusable or it is registered already."""
    if not values.issuer or not values.client_id:
        raise RegistrationError("Enter the platform's issuer and the client id it gave PolicyPass")
    for label, url in (("The issuer", values.issuer), ("The authentication request URL", values.auth_login_url),
                       ("The access token URL", values.auth_token_url), ("The keyset URL", values.key_set_url)):
        _check_url(label, url)
    deployments = tuple(dict.fromkeys(d.strip() for d in values.deployment_ids if d.strip()))
    if not deployments:
        raise RegistrationError("Enter at least one deployment id")
    if db.session.scalar(select(LtiPlatform.id).where(LtiPlatform.issuer == values.issuer,
                                                      LtiPlatform.client_id == values.client_id)):
        raise RegistrationError("A platform with this issuer and client id is already registered")
    platform = LtiPlatform(trust_id=trust.id, name=values.name or urlsplit(values.issuer).hostname,
                           issuer=values.issuer, client_id=values.client_id, auth_login_url=values.auth_login_url,
                           auth_token_url=values.auth_token_url, key_set_url=values.key_set_url,
                           deployment_ids=list(deployments), academy_id=academy.id if academy else None,
                           created_at=now)
    db.session.add(platform)
    db.session.flush()
    return platform


def frame_origins(trust_id: int) -> list[str]:
    """The web origins of the trust's registered platforms: the only pages that may frame its launches."""
    origins: list[str] = []
    for platform in db.session.scalars(select(LtiPlatform).where(LtiPlatform.trust_id == trust_id)):
        for url in (platform.issuer, platform.auth_login_url):
            parts = urlsplit(url)
            origin = f"{parts.scheme}://{parts.netloc}"
            if parts.scheme in ("http", "https") and origin not in origins:
                origins.append(origin)
    return origins


# ---- a launch's person -----------------------------------------------------------------------------------

def _placeholder_email(platform: LtiPlatform, sub: str) -> str:
    return f"lti-{platform.id}-{hashlib.sha256(sub.encode()).hexdigest()[:20]}@{NO_EMAIL_DOMAIN}"


def person_for_launch(platform: LtiPlatform, claims: dict, *, now: datetime) -> User:
    """The PolicyPass person a launch names: matched by the platform's `sub`, else by email within the trust,
    else provisioned into the trust with the trust's LMS role (trust.rules.lti). LaunchRefused otherwise."""
    sub = str(claims.get("sub") or "")
    if not sub or len(sub) > 255:
        raise LaunchRefused(400, "no-subject", "The launch did not say who you are (no user id), so PolicyPass "
                            "cannot sign you in.", platform)
    account = db.session.scalar(select(LtiAccount).where(LtiAccount.platform_id == platform.id,
                                                         LtiAccount.sub == sub))
    if account is not None:
        user = account.user
    else:
        email = normalise_email(str(claims.get("email") or ""))
        email = email if email and len(email) <= 254 and EMAIL_RE.match(email) else ""
        user = db.session.scalar(select(User).where(User.email == email)) if email else None
        if user is not None and user.trust_id != platform.trust_id:
            raise LaunchRefused(403, "other-trust", "Your email address belongs to an account in another trust, "
                                "so PolicyPass cannot sign you in from this learning platform. Ask your HR team.",
                                platform)
        if user is None:
            user = _provision(platform, claims, email or _placeholder_email(platform, sub), now=now)
        db.session.add(LtiAccount(platform_id=platform.id, sub=sub, user_id=user.id, created_at=now))
        db.session.flush()
    if not user.active:
        raise LaunchRefused(403, "inactive", "Your PolicyPass account is closed (you are recorded as having "
                            "left). If that is wrong, ask your HR team.", platform)
    return user


def _provision(platform: LtiPlatform, claims: dict, email: str, *, now: datetime) -> User:
    trust = platform.trust
    name = " ".join(str(claims.get("name") or "").split())[:200] or " ".join(
        f"{claims.get('given_name') or ''} {claims.get('family_name') or ''}".split())[:200]
    user = User(trust_id=trust.id, email=email, name=name or "Learning platform user", created_at=now,
                academy_id=platform.academy_id)
    db.session.add(user)
    db.session.flush()
    try:
        grant_role(user, trust.rules.lti.learner_role, platform.academy)
    except PeopleError as exc:
        raise LaunchRefused(403, "no-role", f"{trust.short_name}'s setting for people from its learning "
                            f"platform names a role it does not have ({exc}). Ask your trust administrator.",
                            platform) from exc
    staff_imported.send(trust, now=now, user_ids=[user.id], created_ids=[user.id], returned_ids=[])
    return user


def account_for(platform: LtiPlatform, user: User) -> LtiAccount | None:
    """The person's account on that platform."""
    return db.session.scalar(select(LtiAccount).where(LtiAccount.platform_id == platform.id,
                                                      LtiAccount.user_id == user.id))


def note_course(platform: LtiPlatform, claims: dict, *, now: datetime) -> LtiCourse | None:
    """Remember the course the launch came from, and its roster service if the platform offers one."""
    context = claims.get(CLAIM + "context") or {}
    if not isinstance(context, dict) or not context.get("id"):
        return None
    course = db.session.scalar(select(LtiCourse).where(LtiCourse.platform_id == platform.id,
                                                       LtiCourse.context_id == str(context["id"])[:255]))
    if course is None:
        course = LtiCourse(platform_id=platform.id, context_id=str(context["id"])[:255], seen_at=now)
        db.session.add(course)
    course.title = str(context.get("title") or context.get("label") or course.title or "")[:300]
    nrps = claims.get(NRPS_CLAIM) or {}
    if isinstance(nrps, dict) and nrps.get("context_memberships_url"):
        course.memberships_url = str(nrps["context_memberships_url"])[:400]
    course.seen_at = now
    db.session.flush()
    return course


def note_line_item(account: LtiAccount, claims: dict, *, now: datetime) -> LtiGradeLink | None:
    """Remember the line item the person was launched into, when the platform lets the tool post scores."""
    ags = claims.get(AGS_CLAIM) or {}
    if not isinstance(ags, dict) or not ags.get("lineitem") or SCORE_SCOPE not in (ags.get("scope") or []):
        return None
    url = str(ags["lineitem"])[:400]
    link = db.session.scalar(select(LtiGradeLink).where(LtiGradeLink.account_id == account.id,
                                                        LtiGradeLink.lineitem_url == url))
    if link is None:
        link = LtiGradeLink(account_id=account.id, lineitem_url=url, seen_at=now)
        db.session.add(link)
    link.scopes, link.seen_at = list(ags.get("scope") or []), now
    db.session.flush()
    return link


# ---- scores owed ----------------------------------------------------------------------------------------

def owe_scores(acknowledgement, *, now: datetime) -> list[LtiScore]:
    """A person acknowledged: owe each line item they were launched into their quiz score (once per line item
    and acknowledgement). Receiver of attestation's `acknowledged` signal; the worker sends them."""
    if acknowledgement.decision != "acknowledged" or acknowledgement.attempt_score is None:
        return []
    links = db.session.scalars(select(LtiGradeLink).join(LtiAccount).where(
        LtiAccount.user_id == acknowledgement.user_id))
    owed = []
    for link in links:
        score = LtiScore(link_id=link.id, acknowledgement_id=acknowledgement.id,
                         score=acknowledgement.attempt_score, status="pending", attempts=0,
                         created_at=acknowledgement.created_at, next_try_at=now)
        try:
            with db.session.begin_nested():
                db.session.add(score)
        except IntegrityError:
            continue  # already owed: once
        owed.append(score)
    if owed and has_request_context():
        g.setdefault("lti_scores_queued", set()).update(s.id for s in owed)
    return owed
