"""Unbranded GOV.UK Frontend assets and the base template (DESIGN.md §7, §8)."""

import contextlib
import fcntl
import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Blueprint, Flask, flash, render_template_string
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

from modules.core.links import fixed_url

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "static" / "govuk"
NONCE = "test-nonce-abc123"

# The GOV.UK Frontend release govuk-frontend-jinja 4.1.0 targets.
GOVUK_FRONTEND_VERSION = "6.3.0"


@contextlib.contextmanager
def _build_lock():
    """Serialise builds between pytest-xdist workers (the build swaps static/govuk/ in place)."""
    name = "policypass-assets-" + hashlib.sha256(str(ROOT).encode()).hexdigest()[:12] + ".lock"
    with open(Path(tempfile.gettempdir()) / name, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="module")
def built_assets():
    """Build static/govuk/ if it is missing (never skip): npm ci first when needed."""
    with _build_lock():
        if not (OUT / "app.css").is_file() or not (OUT / "govuk-frontend.min.js").is_file():
            npm = shutil.which("npm")
            assert npm, "npm is needed to build static/govuk/ (run `make setup`)"
            if not (ROOT / "node_modules" / ".bin" / "sass").exists():
                subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True)
            subprocess.run([npm, "run", "build"], cwd=ROOT, check=True)
    return OUT


def test_package_json_pins_exact_versions():
    """govuk-frontend is pinned to exactly the version the Jinja port targets; sass and axe-core are pinned."""
    package = json.loads((ROOT / "package.json").read_text())
    dev = package["devDependencies"]
    assert dev["govuk-frontend"] == GOVUK_FRONTEND_VERSION
    for name in ("sass", "axe-core"):
        assert re.fullmatch(r"\d+\.\d+\.\d+", dev[name]), f"{name} must be pinned exactly, got {dev[name]!r}"
    assert package["scripts"]["build"]

    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/govuk-frontend"]["version"] == GOVUK_FRONTEND_VERSION
    for name in ("sass", "axe-core"):
        assert lock["packages"][f"node_modules/{name}"]["version"] == dev[name]


def test_css_has_no_gds_transport_and_no_dangling_urls(built_assets):
    """app.css uses the system font stack; every url() it holds is a file we serve."""
    css = (built_assets / "app.css").read_text()
    assert ".govuk-template" in css and ".pp-progress" in css and ".pp-obligation-must-not" in css
    assert "GDS Transport" not in css
    assert "@font-face" not in css
    assert "system-ui" in css
    # Compiled from the pinned release; ServiceNavigation's JS reads the breakpoint property.
    assert f'--govuk-frontend-version: "{GOVUK_FRONTEND_VERSION}"' in css
    assert "--govuk-breakpoint-tablet:" in css
    urls = re.findall(r"url\(\s*['\"]?([^'\")]+)", css)
    assert not [u for u in urls if re.search(r"\.(woff2?|ttf|otf|eot)\b|/fonts/", u)]
    for url in urls:
        if url.startswith("data:"):
            continue
        assert url.startswith("/static/govuk/images/"), url
        assert (built_assets / "images" / url.rsplit("/", 1)[1]).is_file(), url


def test_js_bundle_and_no_branding_copied(built_assets):
    """The ES module bundle is there; fonts, the crown/crest and GOV.UK favicons are not."""
    js = (built_assets / "govuk-frontend.min.js").read_text()
    assert "initAll" in js
    names = {p.name for p in built_assets.rglob("*") if p.is_file()}
    assert not [n for n in names if n.endswith((".woff", ".woff2"))]
    assert not [n for n in names if n.startswith(("favicon", "govuk-icon", "govuk-crest", "govuk-opengraph"))]
    assert "manifest.json" not in names


def test_build_is_idempotent(built_assets):
    """A second build with nothing changed leaves the output alone."""
    with _build_lock():
        subprocess.run(["sh", "scripts/build_assets.sh"], cwd=ROOT, check=True, capture_output=True)
        before = (built_assets / "app.css").stat().st_mtime_ns
        result = subprocess.run(
            ["sh", "scripts/build_assets.sh"], cwd=ROOT, check=True, capture_output=True, text=True
        )
    assert "up to date" in result.stdout
    assert (OUT / "app.css").stat().st_mtime_ns == before


# --- base template ----------------------------------------------------------------------------

CHILD = """{% extends "base.html" %}
{% set navigation = [{'href': '/training', 'text': 'My training', 'current': true}] %}
{% block page_title %}My training{% endblock %}
{% block beforeContent %}<a href="/" class="govuk-back-link">Back</a>{% endblock %}
{% block content %}<h1 class="govuk-heading-l">My training</h1>
<progress class="pp-progress" max="12" value="5">5 of 12</progress>{% endblock %}
"""


@pytest.fixture
def app():
    """A bare Flask app with our templates, the GOV.UK Jinja port, csp_nonce, an auth.logout route and the
    account.overview route the signed-in header links to."""
    app = Flask(__name__, root_path=str(ROOT), static_folder="static", template_folder="templates")
    app.config.update(SECRET_KEY="test", TESTING=True)
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(ROOT / "templates")),
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]
    )
    app.jinja_env.globals["csp_nonce"] = lambda: NONCE
    app.jinja_env.globals["fixed_url"] = fixed_url  # as modules.core.web sets it: links built once per app
    auth = Blueprint("auth", __name__)

    @auth.post("/sign-out")
    def logout():
        return ""

    account = Blueprint("account", __name__)

    @account.get("/account")
    def overview():
        return ""

    app.register_blueprint(auth)
    app.register_blueprint(account)
    return app


class _Page(HTMLParser):
    """Collects the tags we check: scripts, stylesheets, icons, and every style= attribute."""

    def __init__(self):
        super().__init__()
        self.scripts, self.links, self.styled, self.forms, self.html_attrs = [], [], [], [], {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "style" in attrs:
            self.styled.append(tag)
        if tag == "script":
            self.scripts.append(attrs)
        elif tag == "link":
            self.links.append(attrs)
        elif tag == "form":
            self.forms.append(attrs)
        elif tag == "html":
            self.html_attrs = attrs


def _render(app, user=None, flashes=()):
    with app.test_request_context("/training"):
        if user is not None:
            app.jinja_env.globals["current_user"] = user
            app.jinja_env.globals["csrf_token"] = lambda: "csrf-xyz"
        for message, category in flashes:
            flash(message, category)
        html = render_template_string(CHILD)
    page = _Page()
    page.feed(html)
    return html, page


def _assert_unbranded_and_csp_safe(html, page):
    assert page.html_attrs.get("lang") == "en-GB"
    assert "<title>My training – PolicyPass</title>" in html
    assert "style=" not in html and not page.styled
    assert "GOV.UK" not in html
    assert "<svg" not in html and "crown" not in html.lower() and "govuk-logo" not in html
    assert "Open Government Licence" not in html
    assert page.scripts, "expected the GOV.UK Frontend scripts"
    for script in page.scripts:
        assert script.get("nonce") == NONCE, script
    modules = [s for s in page.scripts if s.get("type") == "module"]
    assert [s.get("src") for s in modules if s.get("src")] == ["/static/govuk/govuk-frontend.min.js"]
    assert "initAll()" in html
    assert [link["href"] for link in page.links if link.get("rel") == "stylesheet"] == [
        "/static/govuk/app.css"
    ]
    # Nothing loaded from anywhere but us.
    for attrs in page.scripts + page.links:
        ref = attrs.get("src") or attrs.get("href") or ""
        assert not re.match(r"(https?:)?//", ref), ref
    assert '<a href="/" class="govuk-service-navigation__link">' in html and "PolicyPass" in html
    assert 'class="govuk-back-link"' in html
    assert html.index("govuk-back-link") < html.index('id="main-content"')


def test_base_template_anonymous(app):
    """Signed out: unbranded, CSP-safe page with no Sign out form."""
    html, page = _render(app)
    _assert_unbranded_and_csp_safe(html, page)
    assert "Sign out" not in html and not page.forms
    assert 'aria-current="page"' in html  # navigation items from the child are shown


def test_base_template_signed_in_with_flashes(app):
    """Signed in: name (escaped) and a POST Sign out form with the CSRF token; flashes become banners."""
    user = SimpleNamespace(is_authenticated=True, full_name="Ada <Lovelace>")
    html, page = _render(
        app,
        user=user,
        flashes=[("Training saved", "success"), ("Policy updated", "info"), ("<i>x</i>", "info")],
    )
    _assert_unbranded_and_csp_safe(html, page)
    assert "Ada &lt;Lovelace&gt;" in html
    assert page.forms == [
        {"method": "post", "action": "/sign-out", "class": "pp-signout-form", "novalidate": None}
    ]
    assert '<input type="hidden" name="csrf_token" value="csrf-xyz">' in html
    assert "govuk-notification-banner--success" in html and "Training saved" in html
    assert html.count('data-module="govuk-notification-banner"') == 3
    assert "&lt;i&gt;x&lt;/i&gt;" in html  # flashed text is escaped
    assert '<p class="govuk-notification-banner__heading">Policy updated</p>' in html
    assert 'id="pp-flash-title-2"' in html and "&lt;p" not in html and "<i>" not in html


def test_base_template_not_authenticated_user(app):
    """An anonymous current_user (Flask-Login's AnonymousUserMixin) gets no Sign out form."""
    html, page = _render(app, user=SimpleNamespace(is_authenticated=False))
    assert "Sign out" not in html and not page.forms
