"""Request plumbing shared by every page: CSP nonce, security headers, template helpers, error pages."""

import secrets
from collections import ChainMap

from flask import Flask, current_app, g, render_template, request
from flask.globals import request_ctx
from flask.templating import Environment
from flask_wtf.csrf import CSRFError
from govuk_frontend_wtf.main import WTFormsHelpers
from markupsafe import escape
from werkzeug.exceptions import BadRequest, HTTPException, NotFound

from modules.core import logs
from modules.core.inputs import IdConverter
from modules.core.links import fixed_url
from modules.core.navigation import navigation, section_navigation
from modules.core.timeutil import format_date, format_datetime

#: Titles and explanations for the error pages, in plain British English.
ERROR_TEXT = {
    400: ("There is a problem with your request", "The form or link you used was not valid, so nothing was changed. Go back, reload the page and try again."),
    403: ("You do not have permission to see this page", "Your account does not allow this. If you think it should, ask your HR team."),
    404: ("Page not found", "If you typed the web address, check it is correct. If you pasted it, check you copied all of it."),
    405: ("There is a problem with your request", "That action is not allowed here."),
    413: ("The file is too large", "Choose a smaller file and try again."),
    429: ("Too many attempts", "You have tried too many times. Wait a minute, then try again."),
    500: ("Sorry, there is a problem with the service", "Try again later. Nothing you submitted has been saved."),
}


def csp_nonce() -> str:
    """The per-request nonce that every inline script must carry."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _security_headers(response):
    nonce = csp_nonce()
    # Nobody may frame a page, unless the request allowed named origins (an LMS iframe: modules/lti/web.py);
    # forms post to this site only, plus any origin the request named (an LTI deep-linking return URL).
    ancestors = g.get("frame_ancestors") or []
    frame_ancestors = " ".join(ancestors) if ancestors else "'none'"
    form_action = " ".join(["'self'", *g.get("form_action_origins", [])])
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
        f"object-src 'none'; base-uri 'none'; frame-ancestors {frame_ancestors}; "
        f"form-action {form_action}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if not ancestors:
        response.headers["X-Frame-Options"] = "DENY"
    hsts = current_app.config.get("HSTS_MAX_AGE", 0)
    if hsts:
        response.headers["Strict-Transport-Security"] = f"max-age={int(hsts)}; includeSubDomains"
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


#: Shown for a missing or stale CSRF token instead of the library's technical wording.
CSRF_MESSAGE = ("The form had expired or was not sent from this site, so nothing was changed. "
                "Go back, reload the page and try again.")


def _error_page(error: HTTPException):
    code = error.code or 500
    title, message = ERROR_TEXT.get(code, (error.name, error.description))
    if isinstance(error, CSRFError):
        message = CSRF_MESSAGE
    elif code == 400 and isinstance(error, ClearBadRequest):
        message = error.description
    if request_ctx.url_adapter is None:  # the request was refused before routing (an untrusted Host header)
        body = f"<!doctype html><html lang=\"en-GB\"><title>{escape(title)}</title><h1>{escape(title)}</h1>"
        return body + f"<p>{escape(message)}</p></html>", code, {"Content-Type": "text/html; charset=utf-8"}
    return render_template("errors/error.html", code=code, title=title, message=message), code


class ClearBadRequest(BadRequest):
    """A 400 whose description is written for the person (e.g. a tampered form), shown as it is."""


class _TemplateGlobals(ChainMap):
    """A template's globals over the environment's, as Jinja's own ChainMap, whose keys() is a plain set: Jinja
    compares them with the page's on every `{% from … import … %}` (a dozen a page), key by key otherwise."""

    def keys(self):
        """The names of every global, as a set."""
        return set().union(*self.maps)


class TemplateEnvironment(Environment):
    """Flask's Jinja environment, with quick template globals (set as the app's jinja_environment)."""

    def make_globals(self, d):
        """A template's globals, overlaying the environment's (see _TemplateGlobals)."""
        return _TemplateGlobals({} if d is None else d, self.globals)


def init_app(app: Flask) -> None:
    """Attach the id converter, CSP, headers, template helpers and error pages to the app."""
    app.url_map.converters["int"] = IdConverter  # before any blueprint: a 25-digit id is a 404, not a 500
    WTFormsHelpers(app)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.globals["fixed_url"] = fixed_url
    app.context_processor(lambda: {"navigation": navigation(), "section_navigation": section_navigation()})
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["datetime"] = format_datetime
    app.after_request(_security_headers)
    app.before_request(_refuse_control_characters_in_path)
    logs.init_app(app)
    app.register_error_handler(HTTPException, _error_page)


def _refuse_control_characters_in_path():
    """A path with a control character (a %00, a %0A) names nothing here: a 404 before any view or query sees it
    (PostgreSQL refuses a NUL byte in a string, which would otherwise be a 500)."""
    if any(ord(c) < 32 or ord(c) == 127 for c in request.path):
        raise NotFound()


def bad_request(message: str) -> ClearBadRequest:
    """A 400 to raise from a view, with a message the person can act on; nothing has been changed."""
    return ClearBadRequest(description=message)
