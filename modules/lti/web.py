"""Request plumbing for pages opened inside an LMS iframe: the framed session's cookie and frame-ancestors.

A session started by an LTI launch is marked framed (FRAME_KEY holds the trust's id). Its cookie is then sent
`SameSite=None; Secure; Partitioned`, so the browser keeps sending it inside the LMS's iframe (a partitioned
cookie belongs to that LMS page only, and browsers that block third-party cookies still keep it), and its
pages may be framed by exactly the origins of that trust's registered platforms (modules/core/web.py reads
`g.frame_ancestors`). Every other session and page keeps `frame-ancestors 'none'` and `SameSite=Lax`.
"""

from flask import g, session
from flask.sessions import SecureCookieSessionInterface

from modules.lti.services import frame_origins

#: Session key marking a session started by an LTI launch: the trust whose platforms may frame it.
FRAME_KEY = "lti_frame"


class FramedSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, sent `SameSite=None; Secure; Partitioned` for framed sessions."""

    def save_session(self, app, session, response):  # noqa: D102 - Flask's interface
        g.lti_framed_cookie = bool(session.get(FRAME_KEY))
        return super().save_session(app, session, response)

    def get_cookie_samesite(self, app):  # noqa: D102
        return "None" if g.get("lti_framed_cookie") else super().get_cookie_samesite(app)

    def get_cookie_secure(self, app):  # noqa: D102
        return True if g.get("lti_framed_cookie") else super().get_cookie_secure(app)

    def get_cookie_partitioned(self, app):  # noqa: D102
        return True if g.get("lti_framed_cookie") else super().get_cookie_partitioned(app)


def allow_framing(trust_id: int) -> None:
    """Let this response be framed by the trust's registered platforms (and nobody else)."""
    origins = frame_origins(trust_id)
    if origins:
        g.frame_ancestors = origins


def frame_framed_session() -> None:
    """Before each request: a framed session's pages may be framed by its trust's platforms."""
    trust_id = session.get(FRAME_KEY)
    if isinstance(trust_id, int):
        allow_framing(trust_id)
