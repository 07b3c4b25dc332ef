"""Absolute links for certificates and emails (any package may build one; certificates add /verify links).

They use PUBLIC_BASE_URL (required in production, see modules/core/config.py). Without it (development,
tests) the current request's address is used only when its Host is in TRUSTED_HOSTS, so a forged Host header
can never end up in a QR code or an email; otherwise the `make run` address.
"""

from urllib.parse import urlsplit

from flask import current_app, has_request_context, request, url_for
from werkzeug.sansio.utils import host_is_trusted
from werkzeug.wsgi import get_host

#: current_app.extensions key of the links fixed_url has built.
_FIXED_URLS = "policypass_fixed_urls"

#: Used outside any request (commands) or for an untrusted Host when PUBLIC_BASE_URL is unset: `make run`.
FALLBACK_BASE = "http://127.0.0.1:5000"


def _request_host_is_trusted() -> bool:
    """Whether this request's Host header is one TRUSTED_HOSTS names (an empty or unset list trusts none)."""
    trusted = current_app.config.get("TRUSTED_HOSTS")
    # The raw header: request.host itself raises for an untrusted host once Flask has checked it.
    return bool(trusted) and host_is_trusted(get_host(request.environ), trusted)


def request_base() -> str | None:
    """The address links made now would use, to hand to work done after the request (a PDF rendered later):
    PUBLIC_BASE_URL, else this request's root if its Host is trusted, else None (the fallback)."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base and has_request_context() and _request_host_is_trusted():
        return request.url_root
    return base


def absolute(endpoint: str, *, base: str | None = None, **values) -> str:
    """An absolute URL: under PUBLIC_BASE_URL when set, else the current request's address if trusted, else
    `base` (a trusted address taken by `request_base` during the request this work came from)."""
    configured = current_app.config.get("PUBLIC_BASE_URL")
    if not configured and has_request_context() and _request_host_is_trusted():
        return url_for(endpoint, _external=True, **values)
    parts = urlsplit(configured or base or FALLBACK_BASE)
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme)
    return adapter.build(endpoint, values, force_external=True)



def fixed_url(endpoint: str, **values) -> str:
    """url_for for a link that is the same on every request (a static file, a page without ids: the navigation's
    entries), built once per app and script root instead of on every page."""
    if not has_request_context():
        return url_for(endpoint, **values)
    key = (request.script_root, endpoint, *sorted(values.items()))
    urls = current_app.extensions.setdefault(_FIXED_URLS, {})
    url = urls.get(key)
    if url is None:
        url = urls[key] = url_for(endpoint, **values)
    return url
