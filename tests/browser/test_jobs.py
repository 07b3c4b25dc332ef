"""Issue 17 point 11 in the browser: HR asks for the whole trust's evidence pack; it is prepared by the queue's
worker while the page shows its progress, polling politely, and offers the download when it is done. The
queue is the app's real Huey store; the test plays the worker by draining it while the page waits."""

import zipfile

import pytest
from playwright.sync_api import expect

from modules.notifications import queue
from tests.browser.conftest import assert_accessible, assert_no_csp_errors, open_hr_tool, sign_in_as

pytestmark = pytest.mark.browser


def test_hr_watches_the_evidence_pack_being_prepared_then_downloads_it(page, live_server, app, tmp_path):
    sign_in_as(page, live_server, "hr", "tkat")
    open_hr_tool(page, "Evidence pack")
    page.get_by_role("button", name="Prepare the evidence pack").click()
    expect(page.locator("h1")).to_have_text("Evidence pack")
    expect(page.locator("#job-step")).to_contain_text("Waiting for the worker to start")
    expect(page.locator("#job-progress")).to_be_visible()
    assert_accessible(page)
    job_url = page.url

    assert queue.drain(app) == 1  # the worker picks the job up; the page notices by itself
    expect(page.locator("#job-done")).to_be_visible(timeout=60_000)
    assert page.url == job_url
    with page.expect_download() as info:
        page.locator("#job-download").click()
    path = tmp_path / "pack.zip"
    info.value.save_as(path)
    assert {"summary.html", "people.csv", "ledger/public-key.pem"} <= set(zipfile.ZipFile(path).namelist())
    assert_accessible(page)
    assert_no_csp_errors(page)
