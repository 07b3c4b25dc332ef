"""Configuration from environment variables, with overrides for tests."""

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from modules.core.database import normalise_url

ROOT = Path(__file__).resolve().parents[2]
#: Host headers accepted outside production when TRUSTED_HOSTS is not set: the `make run` and test addresses.
DEV_TRUSTED_HOSTS = ["localhost", "127.0.0.1"]


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete: the app refuses to start."""


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


def _trusted_hosts(environment: str) -> list[str] | None:
    """TRUSTED_HOSTS (comma-separated) from the environment; unset: localhost only outside production."""
    if "TRUSTED_HOSTS" in os.environ:
        return [host.strip() for host in os.environ["TRUSTED_HOSTS"].split(",") if host.strip()] or None
    return None if environment == "production" else list(DEV_TRUSTED_HOSTS)


def _choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = os.environ.get(name, default).strip().lower()
    if value not in allowed:
        raise RuntimeError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _check_public_base_url(config: dict) -> None:
    """Production needs PUBLIC_BASE_URL; when set anywhere it must be an absolute http(s) address."""
    base = config.get("PUBLIC_BASE_URL")
    if not base:
        if config["POLICYPASS_ENV"] == "production":
            raise ConfigError("PUBLIC_BASE_URL must be set when POLICYPASS_ENV=production, e.g. "
                              "PUBLIC_BASE_URL=https://policypass.example.org: it is the address in certificate "
                              "QR codes and emailed links, which must never come from a request's Host header.")
        return
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"PUBLIC_BASE_URL must be an absolute http(s) address such as "
                          f"https://policypass.example.org, not {base!r}.")


def load_config(overrides: dict | None = None) -> dict:
    """Build the app's configuration from the environment, then apply overrides; ConfigError when unsafe."""
    overrides = overrides or {}
    environment = overrides.get("POLICYPASS_ENV") or os.environ.get("POLICYPASS_ENV") or "development"
    instance = Path(overrides.get("INSTANCE_PATH") or os.environ.get("INSTANCE_PATH") or ROOT / "instance")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'policypass.db'}"
    config = {
        # "production" requires PUBLIC_BASE_URL and disables demo data; anything else is development.
        "POLICYPASS_ENV": environment,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": overrides.get("SECRET_KEY") or _secret_key(instance),
        # Key material for encrypting two-step secrets at rest (modules/people/secretbox.py); unset: derived from
        # SECRET_KEY. Set a long random string in production, kept apart from SECRET_KEY.
        "TOTP_ENCRYPTION_KEY": os.environ.get("TOTP_ENCRYPTION_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": normalise_url(url),
        "CONTENT_DIR": str(ROOT / "content"),
        "QUIZZES_DIR": str(ROOT / "quizzes"),
        "REDIS_URL": os.environ.get("REDIS_URL"),
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL") or "memory://",
        "RATELIMIT_ENABLED": True,
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Cookies only over HTTPS in production (SESSION_COOKIE_SECURE=0 turns it off, e.g. for a local trial).
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE",
                                                "1" if environment == "production" else "0") == "1",
        "REMEMBER_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE",
                                                 "1" if environment == "production" else "0") == "1",
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # Strict-Transport-Security max-age in seconds: a year in production, none elsewhere (0 sends nothing).
        "HSTS_MAX_AGE": int(os.environ.get("HSTS_MAX_AGE", "31536000" if environment == "production" else "0")),
        # How many reverse proxies in front of the app set X-Forwarded-For/-Proto/-Host (werkzeug ProxyFix).
        # 0 (default): the headers are ignored. Set it to exactly the number of proxies you run (1 for one
        # nginx), so rate limits and evidence record the client's address, and nobody can forge it.
        "PROXY_FIX_HOPS": int(os.environ.get("PROXY_FIX_HOPS", "0")),
        # A demo server run under production config: the app starts although the database holds demo
        # accounts (made by `flask demo seed`); those accounts still cannot sign in.
        "DEMO_SERVER": os.environ.get("POLICYPASS_DEMO_SERVER", "0") == "1",
        "WTF_CSRF_TIME_LIMIT": None,
        # argon2id; production parameters (RFC 9106 second recommendation), cheaper ones in tests.
        "ARGON2_TIME_COST": 3,
        "ARGON2_MEMORY_COST": 65536,
        "ARGON2_PARALLELISM": 4,
        "DEMO_ENABLED": environment != "production",
        "TIMEZONE": "Europe/London",
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        # Public address of the service, used in certificate QR codes and emails, e.g.
        # "https://policypass.example.org". Required in production. Unset (development, tests): the current
        # request's address, which Flask only accepts for a Host in TRUSTED_HOSTS (a request naming any
        # other host is answered 400), else http://127.0.0.1:5000.
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL") or None,
        "TRUSTED_HOSTS": _trusted_hosts(environment),
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
        # The name PolicyPass gives itself in SMTP's EHLO; unset, Python looks up this machine's name (a DNS
        # query per connection, slow where DNS is unreachable).
        "MAIL_LOCAL_HOSTNAME": os.environ.get("MAIL_LOCAL_HOSTNAME") or None,
        "MAIL_MAX_ATTEMPTS": int(os.environ.get("MAIL_MAX_ATTEMPTS", "5")),
        # What happens to the email a request wrote, once its response has gone out: "worker" queues it for
        # the Huey worker (`make run` starts one; in production run `flask reminders worker`), "request" sends
        # it in the web process, "none" leaves it for the daily run (`flask reminders run`).
        "MAIL_DELIVERY": _choice("MAIL_DELIVERY", "worker", ("worker", "request", "none")),
        # Where a certificate's PDF is rendered once the acknowledgement has committed (never inside it): "worker"
        # (the Huey worker, which retries), "request" (in the web process after the response), "none" (only by
        # the sweep: `flask certificates render-missing`, also part of the daily run); "inline" (after the view's
        # commit, before the response is sent: tests, whose client does not close responses).
        "CERTIFICATE_RENDERING": _choice("CERTIFICATE_RENDERING", "worker", ("worker", "request", "none", "inline")),
        # The worker's daily run (assign, reminders, access sweep, delivery) at this UTC hour and minute.
        "DAILY_RUN_AT": os.environ.get("DAILY_RUN_AT", "06:00"),
        # The public certificate check at /verify: requests per client, and the largest PDF it accepts.
        "VERIFY_RATE_LIMIT": os.environ.get("VERIFY_RATE_LIMIT", "30 per minute"),
        "VERIFY_UPLOAD_MAX_BYTES": 2 * 1024 * 1024,
        # Staff import (CSV): the largest file and the most rows one import takes; how long a new person's
        # "set your password" link lasts.
        "STAFF_IMPORT_MAX_BYTES": int(os.environ.get("STAFF_IMPORT_MAX_BYTES", str(2 * 1024 * 1024))),
        "STAFF_IMPORT_MAX_ROWS": int(os.environ.get("STAFF_IMPORT_MAX_ROWS", "20000")),
        "SET_PASSWORD_MAX_AGE_HOURS": int(os.environ.get("SET_PASSWORD_MAX_AGE_HOURS", "168")),
        # Forgotten passwords: how long an emailed reset link works, and how often one client may ask.
        "PASSWORD_RESET_MAX_AGE_MINUTES": int(os.environ.get("PASSWORD_RESET_MAX_AGE_MINUTES", "60")),
        "PASSWORD_RESET_RATE_LIMIT": os.environ.get("PASSWORD_RESET_RATE_LIMIT", "5 per 15 minutes"),
        # Single sign-on: a JSON file of client secrets by trust slug ({"e-act": "…"}), read when an
        # SSO_CLIENT_SECRET_<SLUG> environment variable is not set (modules/people/sso.py). Never in the database.
        "SSO_SECRETS_FILE": os.environ.get("SSO_SECRETS_FILE") or None,
        # Two-step verification: people whose trust requires it (trust rule mfa_required_capabilities) must set it
        # up before using the app. Always on in production; the test suite turns it off except where it tests it.
        "MFA_ENFORCE": os.environ.get("MFA_ENFORCE", "1") == "1",
        # How long after the password step the code from the authenticator app may be given.
        "TWO_STEP_PENDING_MINUTES": 5,
        # Reminders are queued through Huey: its own SQLite file under instance/ (so it never contends with
        # the app's writers), or Redis when REDIS_URL is set. HUEY_IMMEDIATE runs tasks in-process (tests).
        "HUEY_FILE": os.environ.get("HUEY_FILE") or str(instance / "huey.db"),
        "HUEY_IMMEDIATE": os.environ.get("HUEY_IMMEDIATE", "0") == "1",
        # The queue's name: on one Redis, each PolicyPass deployment (or test) needs its own.
        "HUEY_QUEUE": os.environ.get("HUEY_QUEUE", "policypass"),
        # Prefix of the rate limiter's keys in Redis, likewise.
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", "policypass"),
        # Prometheus metrics at /metrics, for a scraper sending `Authorization: Bearer <METRICS_TOKEN>`; unset,
        # there is no /metrics. With several gunicorn workers also set PROMETHEUS_MULTIPROC_DIR (serve.sh does).
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN") or None,
        # One JSON line per request on stderr (policypass.request: method, path, status, duration, request id).
        "REQUEST_LOG": os.environ.get("REQUEST_LOG", "1") == "1",
        # LTI 1.3 tool: its RSA private key (PEM; default instance/lti_tool_key.pem, made on first use), how
        # owed scores leave ("worker": queued once the response is closed; "none": only the worker's
        # five-minute retry run or `flask lti send-scores`), and tries before a score is marked failed.
        "LTI_PRIVATE_KEY_FILE": os.environ.get("LTI_PRIVATE_KEY_FILE") or None,
        "LTI_SCORE_DELIVERY": _choice("LTI_SCORE_DELIVERY", "worker", ("worker", "none")),
        "LTI_SCORE_MAX_ATTEMPTS": int(os.environ.get("LTI_SCORE_MAX_ATTEMPTS", "5")),
        # A bulk reminder to more people than this runs in the worker, its progress shown on a page.
        "BULK_IN_WORKER": int(os.environ.get("BULK_IN_WORKER", "100")),
        # Finished background jobs' files (evidence packs under instance/jobs/) are deleted by the daily run
        # after this many days.
        "JOB_FILES_KEEP_DAYS": int(os.environ.get("JOB_FILES_KEEP_DAYS", "7")),
        # A staff import applying more rows than this runs in the worker, its progress shown on a page.
        "STAFF_IMPORT_IN_WORKER": int(os.environ.get("STAFF_IMPORT_IN_WORKER", "500")),
    }
    config.update(overrides)
    _check_public_base_url(config)
    if config["POLICYPASS_ENV"] == "production" and not config["MFA_ENFORCE"]:
        raise ConfigError("MFA_ENFORCE cannot be turned off when POLICYPASS_ENV=production: people whose trust "
                          "requires two-step verification must set it up.")
    return config
