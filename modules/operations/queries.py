"""Read-only queries: `flask check --deploy`'s list of insecure production settings; the DPO's personal data page."""

import os
import stat
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from modules.core.extensions import db
from modules.evidence import signing
from modules.operations.models import Erasure, LegalHold
from modules.people import sso
from modules.people.models import SecurityEvent, User
from modules.people.queries import sso_trusts

#: The demo cast's email domain (demo/cast.py DEMO_DOMAIN; operations never imports demo/, a test pins it).
DEMO_DOMAIN = "demo.policypass.uk"
#: Secret keys that are public (examples, tests) and so protect nothing.
KNOWN_SECRET_KEYS = frozenset({"dev", "secret", "change-me", "changeme", "test-secret-key", "development"})
MIN_SECRET_KEY_LENGTH = 32
#: Environment variables that set how many web worker processes run (scripts/serve.sh reads WEB_WORKERS).
WORKER_VARIABLES = ("WEB_WORKERS", "WEB_CONCURRENCY")


def _workers(environ) -> int:
    counts = []
    for name in WORKER_VARIABLES:
        try:
            counts.append(int(environ.get(name, "1")))
        except ValueError:
            counts.append(1)
    return max(counts)


def last_checkpoint_at(instance_path: str) -> datetime | None:
    """When `flask ledger checkpoint` last signed a checkpoint (UTC, naive), or None if never."""
    stamp = Path(instance_path) / signing.CHECKPOINT_STAMP
    try:
        return datetime.fromisoformat(stamp.read_text().strip())
    except (OSError, ValueError):
        return None


def deploy_problems(config, *, now: datetime, environ=os.environ, checkpoint_days: int = 7) -> list[str]:
    """Every insecure production setting, one sentence each; an empty list when the deployment is sound."""
    problems = []
    if config.get("POLICYPASS_ENV") != "production":
        problems.append("POLICYPASS_ENV is not production (set POLICYPASS_ENV=production)")
    secret = str(config.get("SECRET_KEY") or "")
    if secret in KNOWN_SECRET_KEYS or len(secret) < MIN_SECRET_KEY_LENGTH:
        problems.append(f"SECRET_KEY is a default or shorter than {MIN_SECRET_KEY_LENGTH} characters "
                        "(set a long random SECRET_KEY)")
    if not config.get("TOTP_ENCRYPTION_KEY"):
        problems.append("TOTP_ENCRYPTION_KEY is not set: two-step secrets are encrypted with a key derived from "
                        "SECRET_KEY (set a separate long random TOTP_ENCRYPTION_KEY before anyone sets up two-step "
                        "verification: secrets sealed under another key can no longer be read)")
    workers = _workers(environ)
    if str(config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory://") and workers > 1:
        problems.append(f"the sign-in rate limit is kept in memory but {workers} web workers run, so each counts "
                        "separately (set REDIS_URL)")
    if not config.get("PUBLIC_BASE_URL"):
        problems.append("PUBLIC_BASE_URL is not set (the address used in emails and certificates)")
    if not config.get("SESSION_COOKIE_SECURE"):
        problems.append("SESSION_COOKIE_SECURE is off: the session cookie would be sent over plain HTTP "
                        "(set SESSION_COOKIE_SECURE=1)")
    demo = db.session.scalar(select(func.count()).select_from(User)
                             .where(User.email.like(f"%.{DEMO_DOMAIN}")))
    if demo:
        problems.append(f"{demo} demo account(s) are in the database (emails ending .{DEMO_DOMAIN}); "
                        "deploy on a database that was never demo-seeded")
    key = signing.key_path()
    if not key.exists():
        problems.append(f"there is no ledger signing key at {key} (run `flask ledger checkpoint`)")
    else:
        if key.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            problems.append(f"the ledger signing key {key} is readable by group or others (chmod 600 it)")
        url = make_url(str(config.get("SQLALCHEMY_DATABASE_URI", "")))
        if url.get_backend_name() == "sqlite" and url.database and \
                Path(url.database).resolve().parent == key.resolve().parent:
            problems.append(f"the ledger signing key is stored beside the SQLite database in {key.parent}: a copy "
                            "of the database would carry the key that vouches for it (set LEDGER_SIGNING_KEY_FILE)")
    problems += _sso_problems(config, environ)
    last = last_checkpoint_at(config["INSTANCE_PATH"])
    if last is None:
        problems.append("no ledger checkpoint has been written (run `flask ledger checkpoint` regularly)")
    elif now - last > timedelta(days=checkpoint_days):
        problems.append(f"the last ledger checkpoint was written on {last:%-d %B %Y}, more than {checkpoint_days} "
                        "days ago (run `flask ledger checkpoint` regularly)")
    return problems


def _sso_problems(config, environ) -> list[str]:
    """Single sign-on: every trust that has it needs its client secret, and a secrets file only its owner reads."""
    problems = []
    path = config.get("SSO_SECRETS_FILE")
    if path and Path(path).exists() and Path(path).stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        problems.append(f"the single sign-on secrets file {path} is readable by group or others (chmod 600 it)")
    for trust in sso_trusts():
        if sso.client_secret(trust.slug, config=config, environ=environ) is None:
            problems.append(f"{trust.short_name} has single sign-on but no client secret (set "
                            f"{sso.secret_env_name(trust.slug)}, or its entry in SSO_SECRETS_FILE)")
    return problems


# ---- the DPO's personal data page --------------------------------------------------------------------------

def holds_in_place(trust_id: int) -> list:
    """The trust's legal holds still in place, oldest first."""
    return list(db.session.scalars(select(LegalHold).where(LegalHold.trust_id == trust_id,
                                                           LegalHold.lifted_at.is_(None))
                                   .order_by(LegalHold.placed_at)))


def erasures(trust_id: int, limit: int = 50) -> list:
    """The trust's most recent erasures, newest first."""
    return list(db.session.scalars(select(Erasure).where(Erasure.trust_id == trust_id)
                                   .order_by(Erasure.erased_at.desc(), Erasure.id.desc()).limit(limit)))


def refused_erasures(trust_id: int, user_id: int | None = None, limit: int = 50) -> list[SecurityEvent]:
    """Erasures refused (a legal hold), newest first, for the trust or one person."""
    query = select(SecurityEvent).where(SecurityEvent.trust_id == trust_id, SecurityEvent.kind == "erasure",
                                        SecurityEvent.outcome == "refused")
    if user_id is not None:
        query = query.where(SecurityEvent.target_user_id == user_id)
    return list(db.session.scalars(query.order_by(SecurityEvent.occurred_at.desc(), SecurityEvent.id.desc())
                                   .limit(limit)))


def past_retention(trust_id: int, cutoff) -> list[User]:
    """Leavers of the trust who left on or before the cutoff and are not yet erased (the next run's work)."""
    return list(db.session.scalars(select(User).where(
        User.trust_id == trust_id, User.active.is_(False), User.left_on.is_not(None), User.left_on <= cutoff,
        User.id.not_in(select(Erasure.user_id))).order_by(User.left_on, User.id)))


def person_in_trust(trust_id: int, *, email: str | None = None, user_id: int | None = None) -> User | None:
    """A person of the trust by email (any case) or id; None for anyone else."""
    query = select(User).where(User.trust_id == trust_id)
    if email is not None:
        query = query.where(func.lower(User.email) == email.strip().lower())
    else:
        query = query.where(User.id == user_id)
    return db.session.scalar(query)
