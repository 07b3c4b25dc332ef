"""Structured logs: the security event logger writes one JSON object per line, and every request gets an id.

The request id is made for each request, returned as the X-Request-ID header and carried by every security
event, so an operator can join a person's report ("it failed at 10:02, reference …") to the log lines.
"""

import logging
import uuid

from flask import Flask, g, has_request_context
from pythonjsonlogger.json import JsonFormatter

#: The one logger security events go to (see modules/people/security.py).
SECURITY_LOGGER = "policypass.security"


def security_logger() -> logging.Logger:
    """The `policypass.security` logger."""
    return logging.getLogger(SECURITY_LOGGER)


def configure_logging() -> None:
    """Give the security logger a JSON-lines handler on stderr, once per process."""
    logger = security_logger()
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


def init_app(app: Flask) -> None:
    """Configure the security logger; every response sends its request id as X-Request-ID (and 500 pages show it)."""
    configure_logging()
    app.jinja_env.globals["request_id"] = request_id
    app.after_request(_send_request_id)
