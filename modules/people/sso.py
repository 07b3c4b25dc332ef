"""Single sign-on with a trust's OpenID Connect provider, through Authlib's Flask client.

Authorization code flow with PKCE (S256); Authlib keeps the state, nonce and code verifier in the signed session
cookie and checks them on the way back. Every ID token must be signed by a key from the provider's JWKS, name the
trust's issuer exactly (`iss`) and PolicyPass's client id (`aud`), carry the nonce sent, and pass the trust's own
check: Entra ID's tenant (`tid`), Google Workspace's hosted domain (`hd`). No database here: matching the person
is `services.sso_user`.

The client secret is never in the database: it is read from the environment variable
`SSO_CLIENT_SECRET_<SLUG>` (the trust's slug upper-cased, "-" as "_", e.g. SSO_CLIENT_SECRET_E_ACT), else from
the JSON file named by SSO_SECRETS_FILE (`{"e-act": "…"}`).
"""

import json
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app

from modules.people.rules import SingleSignOn

if TYPE_CHECKING:  # Authlib (and with it cryptography) and requests load on the first single sign-on, so
    # commands and ordinary pages never pay for them (bench/commands.py lists heavy imports).
    from authlib.integrations.flask_client import FlaskOAuth2App

#: Scopes asked for: the ID token, the email address and the name.
SCOPES = "openid email profile"
#: Seconds to wait for the provider (discovery, keys, token endpoint).
TIMEOUT = 15
#: Re-read the provider's metadata and keys after this many seconds.
METADATA_MAX_AGE = 3600
#: Leeway for the token's times (clock drift between us and the provider), seconds.
LEEWAY = 120

_clients: dict[str, tuple[tuple, float, "FlaskOAuth2App"]] = {}
_lock = threading.Lock()


class SsoFailure(Exception):
    """A single sign-on that cannot go on: `reason` is logged, `message` is shown, `status` is the HTTP status."""

    def __init__(self, reason: str, message: str, status: int = 400):
        super().__init__(reason)
        self.reason, self.message, self.status = reason, message, status


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in: the checked claims PolicyPass uses."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


def secret_env_name(slug: str) -> str:
    """The environment variable holding a trust's client secret, e.g. SSO_CLIENT_SECRET_E_ACT."""
    return "SSO_CLIENT_SECRET_" + re.sub(r"[^A-Z0-9]", "_", slug.upper())


def client_secret(slug: str, *, config=None, environ=None) -> str | None:
    """The trust's client secret: its environment variable, else its entry in the SSO_SECRETS_FILE."""
    secret = (os.environ if environ is None else environ).get(secret_env_name(slug))
    if secret:
        return secret
    path = (current_app.config if config is None else config).get("SSO_SECRETS_FILE")
    if not path:
        return None
    try:
        found = json.loads(Path(path).read_text()).get(slug)
    except (OSError, ValueError, AttributeError):
        current_app.logger.error("SSO_SECRETS_FILE %s cannot be read as a JSON object", path)
        return None
    return found if isinstance(found, str) and found else None


def client(slug: str, rules: SingleSignOn) -> "FlaskOAuth2App":
    """Authlib's client for the trust's provider (kept, with its metadata and keys, for METADATA_MAX_AGE)."""
    from authlib.integrations.flask_client import FlaskIntegration, FlaskOAuth2App

    secret = client_secret(slug)
    if secret is None:
        raise SsoFailure("no client secret",
                         "Single sign-on is not ready for your trust yet. Sign in with your password if you have "
                         f"one, or ask your IT team (the server has no {secret_env_name(slug)}).", 503)
    key = (rules, secret)
    with _lock:
        kept = _clients.get(slug)
        if kept is not None and kept[0] == key and time.monotonic() - kept[1] < METADATA_MAX_AGE:
            return kept[2]
        name = f"sso-{slug}"
        made = FlaskOAuth2App(
            FlaskIntegration(name), name, client_id=rules.client_id, client_secret=secret,
            server_metadata_url=rules.expected_issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={"scope": SCOPES, "code_challenge_method": "S256", "default_timeout": TIMEOUT})
        _clients[slug] = (key, time.monotonic(), made)
        return made


def _metadata(app: "FlaskOAuth2App", rules: SingleSignOn) -> dict:
    """The provider's metadata, refused unless it names the trust's issuer exactly."""
    import requests

    try:
        metadata = app.load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        raise SsoFailure(f"provider unreachable: {type(exc).__name__}",
                         "Your sign-in provider did not answer. Try again in a few minutes.", 502) from exc
    if metadata.get("issuer") != rules.expected_issuer:
        raise SsoFailure(f"metadata names issuer {metadata.get('issuer')!r}",
                         "Single sign-on for your trust is set up wrongly (the provider names another issuer). "
                         "Ask your IT team.", 502)
    return metadata


def authorize_redirect(app: "FlaskOAuth2App", rules: SingleSignOn, redirect_uri: str, *, again: bool = False):
    """The redirect to the provider's sign-in page (state, nonce and PKCE kept in the session)."""
    _metadata(app, rules)
    extra = {"prompt": "login"} if again else {}
    if rules.kind == "google" and len(rules.hosted_domains) == 1:
        extra["hd"] = rules.hosted_domains[0]  # only a hint for Google's account chooser; the claim is checked
    return app.authorize_redirect(redirect_uri, **extra)


def finish(app: "FlaskOAuth2App", rules: SingleSignOn) -> Identity:
    """Exchange the code from the provider's redirect and check the ID token; SsoFailure when anything is off."""
    import requests
    from authlib.integrations.base_client import MismatchingStateError, OAuthError
    from joserfc.errors import JoseError

    _metadata(app, rules)
    options = {"iss": {"essential": True, "value": rules.expected_issuer},
               "aud": {"essential": True, "value": rules.client_id}}
    try:
        token = app.authorize_access_token(claims_options=options, leeway=LEEWAY)
    except MismatchingStateError as exc:
        raise SsoFailure("state does not match",
                         "This sign-in was not started in this browser, or it was already used or has expired. "
                         "Start again from the sign-in page.") from exc
    except OAuthError as exc:
        cancelled = exc.error == "access_denied"
        raise SsoFailure(f"provider error: {exc.error}",
                         "You did not finish signing in with your provider." if cancelled else
                         "Your sign-in provider could not sign you in. Start again from the sign-in page.") from exc
    except JoseError as exc:
        raise SsoFailure(f"ID token refused: {exc.error}: {exc.description}",
                         "The answer from your sign-in provider could not be trusted (it did not match this "
                         "sign-in), so you are not signed in. Start again from the sign-in page.") from exc
    except requests.RequestException as exc:
        raise SsoFailure(f"token endpoint unreachable: {type(exc).__name__}",
                         "Your sign-in provider did not answer. Try again in a few minutes.", 502) from exc
    claims = token.get("userinfo")
    if not claims:
        raise SsoFailure("no ID token", "Your sign-in provider did not say who you are. Start again.")
    return check_claims(rules, dict(claims))


def check_claims(rules: SingleSignOn, claims: dict) -> Identity:
    """The trust's own checks on a validated ID token: Entra's tenant, Google's hosted domain."""
    if rules.kind == "entra" and claims.get("tid") != rules.tenant_id:
        raise SsoFailure(f"another tenant: {claims.get('tid')!r}", OTHER_ORGANISATION, 403)
    if rules.kind == "google" and claims.get("hd") not in rules.hosted_domains:
        raise SsoFailure(f"another hosted domain: {claims.get('hd')!r}", OTHER_ORGANISATION, 403)
    email = claims.get("email")
    email = email.strip().lower() if isinstance(email, str) and email.strip() else None
    # Entra ID never sends email_verified; its optional claim xms_edov says the domain owner verified the address.
    verified = claims.get("email_verified") is True or (rules.kind == "entra" and claims.get("xms_edov") is True)
    name = claims.get("name") if isinstance(claims.get("name"), str) else None
    return Identity(issuer=claims["iss"], subject=str(claims["sub"]), email=email, email_verified=verified,
                    name=name)


OTHER_ORGANISATION = ("You signed in with an account from another organisation. Use the account your school or "
                      "trust gave you: sign out of the other account at your provider first if you need to.")


def end_session_url(app: "FlaskOAuth2App", rules: SingleSignOn, post_logout_redirect_uri: str) -> str | None:
    """The provider's end-session (sign-out) address for PolicyPass, or None when it publishes none."""
    try:
        metadata = _metadata(app, rules)
    except SsoFailure:
        return None
    if not metadata.get("end_session_endpoint"):
        return None
    return app.create_logout_url(post_logout_redirect_uri=post_logout_redirect_uri,
                                 client_id=rules.client_id)["url"]
