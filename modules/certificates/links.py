"""Absolute links printed on certificates and in emails."""

from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for

#: Used by commands run outside any request when PUBLIC_BASE_URL is unset: the `make run` address.
FALLBACK_BASE = "http://127.0.0.1:5000"


def absolute(endpoint: str, **values) -> str:
    """An absolute URL: under PUBLIC_BASE_URL when set, else the current request's address."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base and has_request_context():
        return url_for(endpoint, _external=True, **values)
    parts = urlsplit(base or FALLBACK_BASE)
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme)
    return adapter.build(endpoint, values, force_external=True)


def verify_url(code: str) -> str:
    """The public check page for a verification code, as the QR code carries it."""
    return absolute("certificates.verify", code=code)
