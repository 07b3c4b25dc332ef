"""What pylti1p3next's Flask adapter lacks, written for PolicyPass.

- A tool configuration read from the database (`LtiPlatform` rows), one registration per issuer + client id.
- OIDC login initiation whose state and nonce live in the database (`LtiLogin`), not in cookies, so a launch
  inside an LMS iframe works when the browser blocks third-party cookies; each state is usable once, for a
  few minutes, and the id_token must carry its nonce (the library's session check accepts a replayed launch).
- A message launch that refuses with `LaunchRefused` (a status and a message for the person) for every
  failure: tampered, expired, replayed or malformed tokens, unknown platforms, deployments and audiences.
- Launch data kept nowhere but the rows the launch writes (the library would put the whole id_token into the
  signed cookie session).
"""

import hashlib
import logging
import secrets
import threading
import time
from datetime import datetime, timedelta
from urllib.parse import urlencode

import requests
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskRequest
from pylti1p3.deployment import Deployment
from pylti1p3.exception import LtiException
from pylti1p3.registration import Registration
from pylti1p3.service_connector import ServiceConnector
from pylti1p3.tool_config import ToolConfAbstract
from sqlalchemy import select, update

from modules.core.extensions import db
from modules.lti.errors import LaunchRefused
from modules.lti.keys import tool_keys
from modules.lti.models import LtiLogin, LtiPlatform

log = logging.getLogger(__name__)

#: How long a platform has, after login initiation, to post the launch.
LOGIN_LIFETIME = timedelta(minutes=5)
#: How long the tool waits for a platform's keyset or token endpoint.
HTTP_TIMEOUT = 10


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def registration_for(platform: LtiPlatform) -> Registration:
    """The library's registration for a platform, with the tool's key pair."""
    private, public, _jwk = tool_keys()
    return (Registration().set_issuer(platform.issuer).set_client_id(platform.client_id)
            .set_auth_login_url(platform.auth_login_url).set_auth_token_url(platform.auth_token_url)
            .set_key_set_url(platform.key_set_url).set_tool_private_key(private).set_tool_public_key(public))


def find_platform(issuer: str | None, client_id: str | None) -> LtiPlatform | None:
    """The platform registered for an issuer and client id (the client id may be left out when it is the only one)."""
    if not issuer:
        return None
    query = select(LtiPlatform).where(LtiPlatform.issuer == issuer)
    if client_id:
        return db.session.scalar(query.where(LtiPlatform.client_id == client_id))
    found = list(db.session.scalars(query.limit(2)))
    return found[0] if len(found) == 1 else None


class DatabaseToolConf(ToolConfAbstract):
    """pylti1p3's tool configuration backed by the `lti_platform` table (many client ids per issuer)."""

    def __init__(self):
        self.platform: LtiPlatform | None = None

    def check_iss_has_one_client(self, iss: str) -> bool:  # noqa: D102 - the library's interface
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:  # noqa: D102
        return True

    def find_registration_by_issuer(self, iss, *args, **kwargs):  # noqa: D102
        return self.find_registration_by_params(iss, None)

    def find_registration_by_params(self, iss, client_id, *args, **kwargs):  # noqa: D102
        self.platform = find_platform(iss, client_id)
        return registration_for(self.platform) if self.platform else None

    def find_deployment(self, iss, deployment_id):  # noqa: D102
        return self.find_deployment_by_params(iss, deployment_id, None)

    def find_deployment_by_params(self, iss, deployment_id, client_id, *args, **kwargs):  # noqa: D102
        platform = self.platform or find_platform(iss, client_id)
        if platform is None or deployment_id not in (platform.deployment_ids or []):
            return None
        return Deployment().set_deployment_id(deployment_id)


def login_platform(params) -> LtiPlatform:
    """The registered platform a login initiation comes from; LaunchRefused when unknown or incomplete."""
    issuer, login_hint = params.get("iss"), params.get("login_hint")
    if not issuer or not login_hint:
        raise LaunchRefused(400, "login-incomplete", "The learning platform's request to open PolicyPass was "
                            "incomplete (no issuer or login hint). Open the activity from your course again.")
    platform = find_platform(issuer, params.get("client_id"))
    if platform is None:
        raise LaunchRefused(403, "unknown-platform", "This learning platform is not registered with PolicyPass. "
                            "Ask your trust administrator to register it.")
    deployment = params.get("lti_deployment_id")
    if deployment and deployment not in (platform.deployment_ids or []):
        raise LaunchRefused(403, "unknown-deployment", "This deployment of PolicyPass in your learning platform "
                            "is not registered. Ask your trust administrator to add its deployment id.", platform)
    return platform


def start_login(params, *, launch_url: str, now: datetime) -> tuple[LtiPlatform, str]:
    """OIDC login initiation (third-party initiated login): record a state and nonce, and return the
    platform and the URL of its authentication request. LaunchRefused for an unknown platform."""
    platform = login_platform(params)
    login_hint = params["login_hint"]
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    db.session.add(LtiLogin(id=_digest(state), platform_id=platform.id, nonce=nonce,
                            expires_at=now + LOGIN_LIFETIME))
    db.session.flush()
    query = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
             "client_id": platform.client_id, "redirect_uri": launch_url, "state": state, "nonce": nonce,
             "login_hint": login_hint}
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    separator = "&" if "?" in platform.auth_login_url else "?"
    return platform, platform.auth_login_url + separator + urlencode(query)


def _refusal(exc: Exception, platform: LtiPlatform | None) -> LaunchRefused:
    """The library's exception, as a refusal the person can understand."""
    text = str(exc)
    if "expired" in text.lower():
        return LaunchRefused(400, "expired", "The launch from your learning platform has expired. Open the "
                             "activity from your course again.", platform)
    if "Registration not found" in text or "Client id not registered" in text:
        return LaunchRefused(403, "wrong-audience", "The launch was meant for another tool, not PolicyPass "
                             "(its audience is not a client id registered here).", platform)
    if "deployment ID" in text:
        return LaunchRefused(403, "unknown-deployment", "This deployment of PolicyPass in your learning "
                             "platform is not registered. Ask your trust administrator to add its deployment "
                             "id.", platform)
    if isinstance(exc, requests.RequestException) or "public key" in text.lower() or "KID" in text:
        return LaunchRefused(400, "keyset", "PolicyPass could not check the launch's signature against your "
                             "learning platform's keys. Try again; if it keeps happening, tell your trust "
                             "administrator.", platform)
    return LaunchRefused(400, "invalid-token", "The launch from your learning platform could not be verified "
                         "(its signature or contents are not valid), so PolicyPass did not open.", platform)


class Launch(FlaskMessageLaunch):
    """One message launch, validated by the library with the checks above added."""

    def __init__(self, form, *, now: datetime):
        self.conf = DatabaseToolConf()
        data = {"id_token": form.get("id_token"), "state": form.get("state")}
        session = requests.Session()
        session.request = _with_timeout(session.request)
        super().__init__(FlaskRequest(request_data=data, cookies={}, session={}, request_is_secure=True),
                         self.conf, requests_session=session)
        self._now = now
        self._login: LtiLogin | None = None

    def validate_state(self):
        """The state must be one this tool issued, still fresh and unused."""
        state = self._get_request_param("state")
        login = db.session.get(LtiLogin, _digest(state)) if state else None
        if login is None:
            raise LaunchRefused(400, "unknown-state", "PolicyPass did not start this launch, or it was already "
                                "used. Open the activity from your course again.")
        platform = db.session.get(LtiPlatform, login.platform_id)
        if login.used_at is not None:
            raise LaunchRefused(400, "replayed", "This launch was already used, so it cannot be used again. "
                                "Open the activity from your course again.", platform)
        if login.expires_at < self._now:
            raise LaunchRefused(400, "expired", "The launch from your learning platform has expired. Open the "
                                "activity from your course again.", platform)
        self._login = login
        return self

    def validate_nonce(self):
        """The id_token must carry the nonce issued with its state."""
        nonce = self._get_jwt_body().get("nonce")
        if not nonce or not secrets.compare_digest(str(nonce), self._login.nonce):
            raise LaunchRefused(400, "nonce", "The launch's token does not match the login PolicyPass started. "
                                "Open the activity from your course again.")
        return self

    def save_launch_data(self):
        """Use the state (once: a concurrent replay updates nothing) instead of storing the launch in the session."""
        if self.conf.platform is None or self.conf.platform.id != self._login.platform_id:
            raise LaunchRefused(400, "wrong-platform", "The launch came from another platform than the login.")
        used = db.session.execute(update(LtiLogin).where(LtiLogin.id == self._login.id,
                                                         LtiLogin.used_at.is_(None))
                                  .values(used_at=self._now))
        if used.rowcount != 1:
            raise LaunchRefused(400, "replayed", "This launch was already used, so it cannot be used again.")
        return self

    def checked(self) -> dict:
        """Validate the launch and return its claims; LaunchRefused for anything wrong."""
        if not self._get_request_param("id_token") or not self._get_request_param("state"):
            raise LaunchRefused(400, "incomplete", "The launch from your learning platform was incomplete "
                                "(no token). Open the activity from your course again.")
        try:
            self.validate()
        except LaunchRefused as exc:
            exc.platform = exc.platform or self.conf.platform
            raise
        except Exception as exc:  # noqa: BLE001  the library assumes well-formed input: anything it raises is a refusal
            if not isinstance(exc, (LtiException, requests.RequestException)):
                log.warning("launch refused on an unexpected %s: %s", type(exc).__name__, exc)
            raise _refusal(exc, self.conf.platform) from exc
        return dict(self._jwt["body"])

    @property
    def platform(self) -> LtiPlatform | None:
        """The registered platform the launch came from (once validated)."""
        return self.conf.platform


def _with_timeout(call):
    def wrapped(method, url, **kwargs):
        kwargs.setdefault("timeout", HTTP_TIMEOUT)
        return call(method, url, **kwargs)
    return wrapped


class CachingConnector(ServiceConnector):
    """The library's service connector with the access-token cache it leaves to adapters: per process, per
    platform registration and scopes, until a minute before the token expires."""

    _tokens: dict[str, tuple[str, float]] = {}
    _lock = threading.Lock()

    def _key(self, scope_key: str) -> str:
        return f"{self._registration.get_client_id()}|{self._registration.get_auth_token_url()}|{scope_key}"

    def _get_cached_access_token(self, scope_key: str):  # noqa: D102 - the library's interface
        with self._lock:
            token, until = self._tokens.get(self._key(scope_key), (None, 0.0))
        return token if until > time.monotonic() else None

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float):  # noqa: D102
        with self._lock:
            self._tokens[self._key(scope_key)] = (access_token, time.monotonic() + float(expires_in or 0) - 60)


def service_connector(platform: LtiPlatform) -> ServiceConnector:
    """A connector that fetches access tokens from the platform (AGS, NRPS) with the tool's key."""
    session = requests.Session()
    session.request = _with_timeout(session.request)
    return CachingConnector(registration_for(platform), session)
