"""Browser harness: the app served on a free loopback port, driven by Debian's chromium via Playwright."""

import socket
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from demo.cast import DEMO_PASSWORD
from demo.cast import demo_email as _demo_email
from tests.live import closed_when_sent

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
#: Without these, chromium tries to reach Google's services, which this network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def pytest_collection_modifyitems(items):
    """A browser test that fails is run once more before it counts: on a loaded 2-core CI machine a page can take
    longer than any wait. A feature that is broken fails both runs; the summary lists every rerun (-rR)."""
    for item in items:
        if item.get_closest_marker("browser") and not item.get_closest_marker("flaky"):
            item.add_marker(pytest.mark.flaky(reruns=1))


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(app):
    """The app (on its fresh test database) served in a thread; yields the base URL."""
    app.config["RATELIMIT_ENABLED"] = True
    port = free_port()
    server = make_server("127.0.0.1", port, closed_when_sent(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session", autouse=True)
def _patient_expectations():
    """Retrying expectations wait as long as actions do, so a loaded CI machine is not a failure."""
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)


@pytest.fixture(scope="session")
def browser():
    """One headless chromium for the whole run."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context and page pointed at the live server."""
    context = browser.new_context(base_url=live_server, locale="en-GB", timezone_id="Europe/London",
                                  accept_downloads=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.console_errors = errors
    yield page
    context.close()


def sign_in_as(page, base_url: str, local: str, slug: str, password: str = DEMO_PASSWORD) -> None:
    """Sign a demo person in through the sign-in page, as they would."""
    page.goto(f"{base_url}/sign-in")
    page.get_by_label("Email address").fill(_demo_email_for(local, slug))
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():  # the next page has loaded, not the one clicked on
        page.get_by_role("button", name="Sign in").click()


def sign_in_with(page, base_url: str, email: str, password: str) -> None:
    """Sign someone in by email and password through the sign-in page, and wait for the signed-in page."""
    from playwright.sync_api import expect

    page.goto(f"{base_url}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def open_hr_tool(page, name: str) -> None:
    """Open one of the HR tools as a person would: "HR tools" in the navigation, then the tool on its hub."""
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="HR tools").click()
    with page.expect_navigation():  # the next page has loaded, not the one clicked on
        page.locator("#tools").get_by_role("link", name=name, exact=True).click()


def _demo_email_for(local: str, slug: str) -> str:
    class _Trust:
        pass

    trust = _Trust()
    trust.slug = slug
    return _demo_email(local, trust)


def assert_accessible(page) -> None:
    """axe-core finds no serious or critical violations on the current page.

    axe is evaluated through the DevTools protocol, so the page's strict CSP stays on.
    """
    page.evaluate(AXE.read_text())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, "accessibility violations: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in bad)


def assert_no_csp_errors(page) -> None:
    """The page logged no Content-Security-Policy violations (or other console errors)."""
    assert not page.console_errors, page.console_errors
