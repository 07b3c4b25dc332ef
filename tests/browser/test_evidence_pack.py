"""Issue 17 point 9 in the browser: HR downloads the evidence pack, opens its summary as an inspector would
(from disk, in a browser) and finds everyone in scope with their status; the ledger check runs from the pack."""

import subprocess
import zipfile
from datetime import date

import pytest
from playwright.sync_api import expect

from modules.core.extensions import db
from modules.tracking import actions, services
from tests.browser.conftest import assert_accessible, assert_no_csp_errors, open_hr_tool, sign_in_as
from tests.conftest import NOW
from tests.tracking.factories import acknowledge, current, demo_user, trust

pytestmark = pytest.mark.browser


def test_hr_downloads_the_pack_and_opens_the_summary(page, live_server, tmp_path):
    services.ensure_assignments(trust(), now=NOW)
    acknowledge(demo_user("teacher"), NOW)
    current(demo_user("staff")).due_on = date(2026, 11, 1)
    actions.exempt(demo_user("hr"), demo_user("office"), reason="Long-term absence", now=NOW)
    db.session.commit()

    sign_in_as(page, live_server, "hr", "tkat")
    open_hr_tool(page, "Evidence pack")
    expect(page.locator("main")).to_contain_text("without access to PolicyPass")
    assert_accessible(page)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download evidence pack").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert_no_csp_errors(page)
    folder = tmp_path / "pack"
    zipfile.ZipFile(path).extractall(folder)

    # The inspector opens summary.html from the unzipped folder.
    page.goto((folder / "summary.html").as_uri())
    expect(page.locator("h1")).to_have_text("Evidence pack: The Kemnal Academies Trust (the whole trust)")
    expect(page.locator("#people tbody tr")).to_have_count(12)
    expect(page.locator("#people tbody tr", has_text="Sam Taylor")).to_contain_text("Overdue")
    expect(page.locator("#people tbody tr", has_text="Tom Reid")).to_contain_text("Exempt")
    expect(page.locator("#people tbody tr", has_text="Priya Shah")).to_contain_text("Completed")
    expect(page.locator("#counts [data-status=overdue]")).to_have_text("1")
    assert_accessible(page)

    # The command the summary gives checks the signed checkpoint, with openssl, in the unzipped folder.
    command = page.locator("#openssl-command").inner_text()
    result = subprocess.run(command, shell=True, cwd=folder, capture_output=True, text=True, timeout=120)
    assert "Signature Verified Successfully" in result.stdout, result
    chain = subprocess.run(page.locator("#chain-command").inner_text(), shell=True, cwd=folder,
                           capture_output=True, text=True, timeout=120)
    assert chain.returncode == 0 and chain.stdout.startswith("OK"), chain
