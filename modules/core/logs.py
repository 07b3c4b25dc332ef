"""Structured logs: the security event and request loggers write one JSON object per line; every request has an id.

The request id is made for each request, returned as the X-Request-ID header and carried by every security
event, so an operator can join a person's report ("it failed at 10:02, reference …") to the log lines.
"""

import logging
import time
import uuid

import sqlalchemy as sa
from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

#: The one logger security events go to (see modules/people/security.py).
SECURITY_LOGGER = "policypass.security"
#: One line per request answered: method, route path, status, duration, request id, who (a user id).
REQUEST_LOGGER = "policypass.request"


def security_logger() -> logging.Logger:
    """The `policypass.security` logger."""
    return logging.getLogger(SECURITY_LOGGER)


def configure_logging() -> None:
    """Give the security and request loggers a JSON-lines handler on stderr, once per process."""
    for name in (SECURITY_LOGGER, REQUEST_LOGGER):
        _json_lines(logging.getLogger(name))


def _json_lines(logger: logging.Logger) -> None:
    if not any(getattr(handler, "_policypass_json", False) for handler in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter("{message}", style="{", timestamp=True,
                                           rename_fields={"message": "event"}))
        handler._policypass_json = True
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    # logging.config.fileConfig (Alembic's env.py runs it) disables loggers that exist before it; undo that.
    logger.disabled = False
    # Its own handler only, so a host logging set-up (gunicorn, pytest) does not print every event twice.
    logger.propagate = False


def request_id() -> str | None:
    """The current request's id, made on first use; None outside a request."""
    if not has_request_context():
        return None
    if "request_id" not in g:
        g.request_id = uuid.uuid4().hex
    return g.request_id


def _send_request_id(response):
    response.headers["X-Request-ID"] = request_id()
    return response


def _start_clock() -> None:
    g.log_started = time.perf_counter()


def _log_request(response):
    started = g.get("log_started")
    user = g.get("_login_user")  # only if this request loaded who is signed in; never a query just for the log
    logging.getLogger(REQUEST_LOGGER).info("request", extra={
        "request_id": request_id(), "method": request.method, "path": request.path,
        "route": request.url_rule.rule if request.url_rule is not None else None,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started is not None else None,
        "user_id": _signed_in_id(user),
    })
    return response


def _signed_in_id(user) -> str | None:
    """The signed-in person's id from the identity the session already holds: after the view's commit the user
    is expired, and reading `is_authenticated` or `get_id()` would reload it (on SQLite, a second write lock)."""
    state = sa.inspect(user, raiseerr=False) if user is not None else None  # None for the anonymous user
    identity = state.identity if state is not None else None
    return str(identity[0]) if identity else None


def init_app(app: Flask) -> None:
    """Configure the JSON loggers; every response sends its request id as X-Request-ID (and 500 pages show it),
    and, with REQUEST_LOG on, is logged as one JSON line (the path only: query strings can carry tokens)."""
    configure_logging()
    app.jinja_env.globals["request_id"] = request_id
    app.after_request(_send_request_id)
    if app.config.get("REQUEST_LOG"):
        app.before_request(_start_clock)
        app.after_request(_log_request)
