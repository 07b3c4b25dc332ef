"""Helpers shared by tests: signing in through the form, reading CSRF tokens."""

import re

from demo.cast import DEMO_PASSWORD

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token from the first form on a page."""
    match = CSRF_RE.search(html) or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no CSRF token on the page"
    return next(g for g in match.groups() if g)


def sign_in(client, email: str, password: str = DEMO_PASSWORD):
    """Sign in through the real form and return the response (followed)."""
    page = client.get("/sign-in").get_data(as_text=True)
    data = {"email": email, "password": password}
    if 'name="csrf_token"' in page:
        data["csrf_token"] = csrf_token(page)
    return client.post("/sign-in", data=data, follow_redirects=True)
