"""A real OpenID Connect provider for tests: oidc-provider-mock (PyPI) served on 127.0.0.1, and helpers to point a
trust at it and walk its sign-in page without a browser."""

import json
import threading
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import oidc_provider_mock
import pytest
import requests
from werkzeug.serving import make_server

from modules.core.extensions import db
from modules.people.models import Trust

#: The E-ACT tenant the tests configure, and another organisation's tenant.
E_ACT_TENANT = "0e0ac700-0000-4000-8000-00000000e0ac"
OTHER_TENANT = "0badbad0-0000-4000-8000-000000000bad"
CLIENT_ID = "policypass-e-act"
#: Demo addresses of E-ACT are …@e-act.demo.policypass.uk (demo/cast.py).
E_ACT_DOMAIN = "e-act.demo.policypass.uk"


@dataclass
class Provider:
    """The running provider: its issuer (base URL) and a way to say who its users are."""

    issuer: str

    def put_user(self, sub: str, **claims) -> None:
        """Create or replace a user of the provider, with these claims in their ID token."""
        response = requests.put(f"{self.issuer}/users/{quote(sub)}", json=claims, timeout=30)
        assert response.status_code == 204, response.text


@pytest.fixture
def provider():
    """oidc-provider-mock on a free 127.0.0.1 port, requiring a nonce; stopped when the test ends, however it
    ends (the serving thread is a daemon, so even an interrupted run cannot be kept alive by it)."""
    server = make_server("127.0.0.1", 0, oidc_provider_mock.app(require_nonce=True), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield Provider(issuer=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def sso_secrets(tmp_path, app):
    """A secrets file holding E-ACT's client secret, named by the app's SSO_SECRETS_FILE."""
    path = tmp_path / "sso-secrets.json"
    path.write_text(json.dumps({"e-act": "e-act-client-secret"}))
    path.chmod(0o600)
    app.config["SSO_SECRETS_FILE"] = str(path)
    return path


def configure_sso(slug: str, provider: Provider, **rules) -> Trust:
    """Give a trust single sign-on through the test provider (an Entra-like tenant unless told otherwise)."""
    trust = db.session.query(Trust).filter_by(slug=slug).one()
    sso = {"kind": "entra", "client_id": CLIENT_ID, "tenant_id": E_ACT_TENANT, "issuer": provider.issuer,
           "allowed_domains": [E_ACT_DOMAIN], **rules}
    trust.settings = {**(trust.settings or {}), "sso": sso}
    db.session.commit()
    return trust


def provider_sign_in(client, start_path: str, sub: str):
    """Start a single sign-on with the Flask test client, sign in at the provider as `sub` (its real form), and
    return the callback path the provider sends the browser back to."""
    started = client.get(start_path)
    assert started.status_code == 302, started.get_data(as_text=True)
    answer = requests.post(started.location, data={"sub": sub}, allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    return f"{back.path}?{back.query}"
