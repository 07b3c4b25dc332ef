"""A real LTI 1.3 platform for the tests: lti1p3platform (from PyPI) served over HTTP on 127.0.0.1.

It starts logins, signs launches (resource link or deep linking) with its own RSA key, serves its keyset,
issues access tokens to the tool (checking the tool's signed assertion against the tool's live /lti/jwks),
takes scores on its line items, answers its course roster (NRPS) and takes deep-linking replies. Tests read
what it received from `scores`, `deep_link_items` and `requests_seen`.
"""

import json
import threading
from dataclasses import dataclass, field

import flask
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request as PlatformRequest
from markupsafe import escape
from werkzeug.serving import make_server

from tests.browser.conftest import free_port

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
COURSE_ID, COURSE_TITLE = "course-101", "Staff induction 2026"


def _keypair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@dataclass
class Person:
    """Someone the platform launches."""

    sub: str
    name: str | None = None
    email: str | None = None
    roles: list[str] = field(default_factory=lambda: [LEARNER])


class _Request(PlatformRequest):
    def __init__(self, r):
        self.request = {"method": r.method, "form_data": r.form.to_dict(), "get_data": r.args.to_dict(),
                        "headers": dict(r.headers), "content_type": r.content_type, "path": r.path, "json": None}


class TestPlatform:
    """The platform: set `tool` (the tool's base URL) before launching; `people` by sub."""

    __test__ = False

    def __init__(self, host: str = "127.0.0.1"):
        self.port = free_port()
        self.base = f"http://{host}:{self.port}"
        self.client_id, self.deployment = "policypass-client", "dep-1"
        self.private, self.public = _keypair()
        self.tool = ""
        self.people: dict[str, Person] = {}
        self.members: list[dict] = []
        self.scores: list[dict] = []
        self.deep_link_items: list[dict] = []
        #: Per launch overrides: "audience" (a token for another tool), "deployment", "expiration" (seconds).
        self.tweak: dict = {}
        self.app = self._build()
        self._server = None

    # -- what the tool's administrator pastes ----------------------------------------------------------
    @property
    def values(self) -> dict:
        """The platform's side of the registration, as the trust administrator copies it."""
        return {"issuer": self.base, "client_id": self.client_id, "deployment_ids": self.deployment,
                "key_set_url": f"{self.base}/jwks", "auth_login_url": f"{self.base}/authorize",
                "auth_token_url": f"{self.base}/token"}

    def start_url(self, sub: str, kind: str = "resource", custom: str = "") -> str:
        """Where the platform's "open the activity" link goes (it then redirects to the tool's login)."""
        return f"{self.base}/start?sub={sub}&kind={kind}" + (f"&target={custom}" if custom else "")

    # -- the platform itself ------------------------------------------------------------------------------
    def _registration(self) -> Registration:
        tool = self.tool
        return (Registration().set_iss(self.base).set_client_id(self.client_id)
                .set_deployment_id(self.tweak.get("deployment", self.deployment))
                .set_oidc_login_url(f"{tool}/lti/login").set_launch_url(f"{tool}/lti/launch")
                .set_deeplink_launch_url(f"{tool}/lti/launch")
                .set_platform_public_key(self.public).set_platform_private_key(self.private)
                .set_tool_key_set_url(f"{tool}/lti/jwks"))

    def _conf(self):
        registration = self._registration()

        class Conf(LTI1P3PlatformConfAbstract):
            def init_platform_config(self, **kwargs):
                pass

            def get_registration_by_params(self, **kwargs):
                return registration

        conf = Conf()
        conf._registration = registration
        return conf

    def _build(self) -> flask.Flask:
        app = flask.Flask("platform")
        platform = self

        class Login(OIDCLoginAbstract):
            def set_lti_message_hint(self, **kwargs):
                self._lti_message_hint = kwargs["hint"]

            def get_redirect(self, url):
                return flask.redirect(url)

        class Launch(LTIAdvantageMessageLaunchAbstract):
            def render_launch_form(self, data, **kwargs):
                return (f'<!doctype html><html lang="en"><title>Launching</title><body>'
                        f'<form id="launch" method="post" action="{escape(data["launch_url"])}">'
                        f'<input type="hidden" name="id_token" value="{escape(data["id_token"])}">'
                        f'<input type="hidden" name="state" value="{escape(data["state"])}">'
                        f'<button type="submit">Continue</button></form>'
                        f'<script>document.getElementById("launch").submit()</script></body></html>')

        @app.get("/start")
        def start():
            args = flask.request.args
            login = Login(_Request(flask.request), platform._conf())
            login.set_lti_message_hint(hint=f"{args['kind']}|{args['sub']}|{args.get('target', '')}")
            return login.initiate_login(user_id=args["sub"])

        @app.get("/authorize")
        def authorize():
            kind, sub, target = flask.request.args["lti_message_hint"].split("|")
            person = platform.people[sub]
            launch = Launch(_Request(flask.request), platform._conf())
            launch._registration = launch._platform_config.get_registration()
            launch.set_user_data(person.sub, person.roles, full_name=person.name, email_address=person.email)
            launch.set_launch_context_claim(COURSE_ID, context_title=COURSE_TITLE, context_label="INDUCT")
            launch.set_nrps(f"{platform.base}/memberships")
            if "audience" in platform.tweak:  # a token for another tool
                launch.set_extra_claims({"aud": platform.tweak["audience"], "azp": platform.tweak["audience"]})
            if "expiration" in platform.tweak:
                launch.set_id_token_expiration(platform.tweak["expiration"])
            if kind == "deep":
                launch.set_dl(f"{platform.base}/deep-link-return", title="Add an activity",
                              accept_types={"ltiResourceLink"}, extra_data={"course": COURSE_ID})
            else:
                launch.set_resource_link_claim(f"link-{target or 'training'}")
                if target:
                    launch.set_custom_parameters_claim({"policypass_target": target})
                launch.set_ags(lineitems_url=f"{platform.base}/lineitems",
                               lineitem_url=f"{platform.base}/lineitems/1/lineitem", allow_creating_lineitems=False)
            return launch.lti_launch()

        @app.get("/jwks")
        def jwks():
            return flask.jsonify(platform._conf().get_jwks())

        @app.post("/token")
        def token():
            return flask.jsonify(platform._conf().get_access_token(flask.request.form.to_dict()))

        def _authorised(scope: str) -> bool:
            bearer = flask.request.headers.get("Authorization", "").removeprefix("Bearer ")
            try:
                return platform._conf().validate_token(bearer, allowed_scopes=[scope])
            except Exception:  # noqa: BLE001  any bad token is a 403 here
                return False

        @app.post("/lineitems/<int:number>/lineitem/scores")
        def scores(number: int):
            if not _authorised(SCORE):
                return "forbidden", 403
            if platform.tweak.get("fail_scores", 0) > 0:  # the gradebook is down for a while
                platform.tweak["fail_scores"] -= 1
                return "unavailable", 503
            platform.scores.append({"lineitem": number, **json.loads(flask.request.get_data())})
            return flask.jsonify({}), 200

        @app.get("/memberships")
        def memberships():
            if not _authorised(NRPS) or platform.tweak.get("refuse_roster"):
                return "forbidden", 403
            return flask.jsonify({"id": f"{platform.base}/memberships", "members": platform.members,
                                  "context": {"id": COURSE_ID, "title": COURSE_TITLE}})

        @app.post("/deep-link-return")
        def deep_link_return():
            items = platform._conf().validate_deeplinking_resp(flask.request.form.to_dict())
            platform.deep_link_items.extend(items)
            titles = "".join(f"<li>{escape(i.get('title', ''))}</li>" for i in items)
            return f'<!doctype html><html lang="en"><title>Added</title><h1>Added to the course</h1><ul>{titles}</ul>'

        @app.get("/course")
        def course():
            sub, target = flask.request.args["sub"], flask.request.args.get("target", "")
            kind = flask.request.args.get("kind", "resource")
            src = platform.start_url(sub, kind, target)
            return (f'<!doctype html><html lang="en"><title>{COURSE_TITLE}</title><link rel="icon" href="data:,"><body><h1>{COURSE_TITLE}</h1>'
                    f'<iframe id="tool" title="PolicyPass" src="{escape(src)}" width="1000" height="800">'
                    f'</iframe></body></html>')

        return app

    def __enter__(self):
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
