"""Configuration from environment variables, with overrides for tests."""

import os
import secrets
from pathlib import Path

from modules.core.database import normalise_url

ROOT = Path(__file__).resolve().parents[2]


def _secret_key(instance: Path) -> str:
    """The SECRET_KEY from the environment, else one kept in instance/ so restarts keep sessions."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = instance / "secret_key"
    if not key_file.exists():
        instance.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def load_config(overrides: dict | None = None) -> dict:
    """Build the app's configuration from the environment, then apply overrides."""
    overrides = overrides or {}
    instance = Path(overrides.get("INSTANCE_PATH") or os.environ.get("INSTANCE_PATH") or ROOT / "instance")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'policypass.db'}"
    config = {
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": overrides.get("SECRET_KEY") or _secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": normalise_url(url),
        "CONTENT_DIR": str(ROOT / "content"),
        "QUIZZES_DIR": str(ROOT / "quizzes"),
        "REDIS_URL": os.environ.get("REDIS_URL"),
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL") or "memory://",
        "RATELIMIT_ENABLED": True,
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "0") == "1",
        "WTF_CSRF_TIME_LIMIT": None,
        # argon2id; production parameters (RFC 9106 second recommendation), cheaper ones in tests.
        "ARGON2_TIME_COST": 3,
        "ARGON2_MEMORY_COST": 65536,
        "ARGON2_PARALLELISM": 4,
        "DEMO_ENABLED": os.environ.get("POLICYPASS_ENV", "development") != "production",
        "TIMEZONE": "Europe/London",
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        # Public address of the service, used in certificate QR codes and emails, e.g.
        # "https://policypass.example.org"; unset means the address of the current request.
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL"),
        # Email: messages are written to the outbox first, then sent by SMTP. With no MAIL_SERVER they wait
        # in the outbox (`flask notifications send` delivers them once a server is configured).
        "MAIL_SERVER": os.environ.get("MAIL_SERVER"),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": os.environ.get("MAIL_USE_TLS", "0") == "1",    # STARTTLS
        "MAIL_USE_SSL": os.environ.get("MAIL_USE_SSL", "0") == "1",    # implicit TLS (port 465)
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "PolicyPass <no-reply@policypass.invalid>"),
        "MAIL_TIMEOUT": float(os.environ.get("MAIL_TIMEOUT", "10")),
        "MAIL_MAX_ATTEMPTS": int(os.environ.get("MAIL_MAX_ATTEMPTS", "5")),
        # Send what a request queued once its response has gone out (until the Huey queue takes this over).
        "MAIL_SEND_AFTER_RESPONSE": os.environ.get("MAIL_SEND_AFTER_RESPONSE", "1") == "1",
        # The public certificate check at /verify: requests per client, and the largest PDF it accepts.
        "VERIFY_RATE_LIMIT": os.environ.get("VERIFY_RATE_LIMIT", "30 per minute"),
        "VERIFY_UPLOAD_MAX_BYTES": 2 * 1024 * 1024,
        # Staff import (CSV): the largest file and the most rows one import takes; how long a new person's
        # "set your password" link lasts.
        "STAFF_IMPORT_MAX_BYTES": int(os.environ.get("STAFF_IMPORT_MAX_BYTES", str(2 * 1024 * 1024))),
        "STAFF_IMPORT_MAX_ROWS": int(os.environ.get("STAFF_IMPORT_MAX_ROWS", "20000")),
        "SET_PASSWORD_MAX_AGE_HOURS": int(os.environ.get("SET_PASSWORD_MAX_AGE_HOURS", "168")),
        # Reminders are queued through Huey: its own SQLite file under instance/ (so it never contends with
        # the app's writers), or Redis when REDIS_URL is set. HUEY_IMMEDIATE runs tasks in-process (tests).
        "HUEY_FILE": os.environ.get("HUEY_FILE") or str(instance / "huey.db"),
        "HUEY_IMMEDIATE": os.environ.get("HUEY_IMMEDIATE", "0") == "1",
    }
    config.update(overrides)
    return config
