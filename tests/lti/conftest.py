"""LTI fixtures: the app served on a loopback port (so the platform can fetch its keyset), and a real
lti1p3platform platform registered for TSAT."""

import re
import threading
from html import unescape
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.lti import services
from modules.people.models import Trust
from tests.browser.conftest import free_port
from tests.live import closed_when_sent
from tests.lti.platform import TestPlatform


@pytest.fixture
def tool_url(app):
    """The app served in a thread on 127.0.0.1 (platforms fetch its /lti/jwks from here)."""
    port = free_port()
    server = make_server("127.0.0.1", port, closed_when_sent(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(timeout=5)


def register(platform: TestPlatform, slug: str = "tsat"):
    """Register the platform for the trust, as the trust administrator would; committed."""
    trust = db.session.scalar(select(Trust).where(Trust.slug == slug))
    values = platform.values
    found = services.register_platform(trust, services.PlatformValues(
        name="Test Moodle", issuer=values["issuer"], client_id=values["client_id"],
        auth_login_url=values["auth_login_url"], auth_token_url=values["auth_token_url"],
        key_set_url=values["key_set_url"], deployment_ids=(values["deployment_ids"],)), now=utcnow())
    db.session.commit()
    return found


@pytest.fixture
def platform(tool_url):
    """A running platform that knows the tool (not yet registered with it)."""
    with TestPlatform() as running:
        running.tool = tool_url
        yield running


def launch_form(platform: TestPlatform, client, sub: str, kind: str = "resource", target: str = "") -> dict:
    """Run the login as a browser would (the cookie check passes) and return the platform's signed launch
    form: {"action", "id_token", "state"}."""
    started = requests.get(platform.start_url(sub, kind, target), allow_redirects=False, timeout=60)
    assert started.status_code == 302, started.text
    login = urlsplit(started.headers["Location"])
    assert login.path == "/lti/login"
    checked = client.get(f"{login.path}?{login.query}&checked=1")
    assert checked.status_code == 302, checked.get_data(as_text=True)
    page = requests.get(checked.location, allow_redirects=False, timeout=60)
    assert page.status_code == 200, page.text
    fields = dict(re.findall(r'name="(id_token|state)" value="([^"]*)"', page.text))
    action = unescape(re.search(r'action="([^"]*)"', page.text).group(1))
    return {"action": action, "id_token": fields["id_token"], "state": fields["state"]}


def post_launch(client, form: dict):
    """Post the launch form to the tool, as the platform's page does."""
    return client.post(urlsplit(form["action"]).path, data={"id_token": form["id_token"], "state": form["state"]})
