"""Issue 13 "Done when", in the browser: TaSMAT HR cannot make itself headteacher by importing its own row;
a TaSMAT member of staff cannot send a new-account request whose handle has a line break."""

import csv

from sqlalchemy import func, select

from modules.access.models import AccessRequest
from modules.core.extensions import db
from modules.people.models import RoleChange, User
from modules.people.services import role_keys
from tests.browser.conftest import assert_accessible, open_hr_tool, sign_in_as
from tests.conftest import demo_email


def _hr():
    return db.session.scalar(select(User).where(User.email == demo_email("hr", "tasmat")))


def test_tasmat_hr_importing_itself_as_headteacher_is_refused_and_nothing_changes(app, page, live_server, tmp_path):
    hr = _hr()
    before = role_keys(hr)
    path = tmp_path / "staff.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["Name", "Email", "Job title", "Department", "Academy", "Line manager email", "Start date",
                         "Roles"])
        writer.writerow([hr.name, hr.email, hr.job_title, hr.department, "", "", "", "HR; Headteacher"])
    db.session.rollback()

    sign_in_as(page, live_server, "hr", "tasmat")
    open_hr_tool(page, "Import staff")
    page.get_by_label("Staff list (CSV file)").set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()
    assert page.locator("h1").inner_text() == "Check the staff import"
    assert page.locator("#count-errors").inner_text() == "1"
    problem = page.locator("#error-row-2").inner_text()
    assert "Headteacher" in problem and "which you cannot give" in problem
    assert "approve requests to run official social media accounts" in problem
    assert "There is nothing to import." in page.locator("main").inner_text()
    assert_accessible(page)

    db.session.rollback()
    assert role_keys(_hr()) == before
    assert db.session.scalar(select(func.count()).select_from(RoleChange)) == 0


def test_a_new_account_request_with_a_line_break_in_the_handle_is_refused(app, page, live_server):
    sign_in_as(page, live_server, "staff", "tasmat")
    page.goto(f"{live_server}/access/requests/new-account")
    page.get_by_label("Platform").select_option("school_website")
    # A text box cannot hold a line break; swap it for a text area, as a hand-made request could.
    page.evaluate("""() => {
        const input = document.querySelector('input[name="handle"]');
        const area = document.createElement('textarea');
        area.name = 'handle'; area.id = input.id;
        input.replaceWith(area);
    }""")
    page.locator('textarea[name="handle"]').fill("@NorthPark\nBcc: everyone@example.org")
    page.get_by_label("Owner").select_option("central")
    page.get_by_label("What is the account for?").fill("Homework blog")
    page.get_by_label("Why do you need this account?").fill("Homework reminders")
    page.get_by_role("button", name="Send request").click()
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "must be on one line" in summary
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AccessRequest)) == 0


def test_tasmat_hr_giving_the_headteacher_role_on_a_persons_page_is_refused(app, page, live_server):
    """Issue 13 point 1 (the UI): the person's roles page runs the import's check; nothing changes."""
    hr = _hr()
    teacher = db.session.scalar(select(User).where(User.email == demo_email("teacher", "tasmat")))
    before = (role_keys(hr), role_keys(teacher))
    db.session.rollback()

    sign_in_as(page, live_server, "hr", "tasmat")
    for person in (teacher, hr):
        page.goto(f"{live_server}/tracking/people/{person.id}")
        page.locator("#change-roles").click()
        assert page.locator("h1").inner_text() == "Roles"
        page.get_by_label("Headteacher").check()
        page.get_by_role("button", name="Save roles").click()
        summary = page.locator(".govuk-error-summary").inner_text()
        if person is teacher:
            assert "which you cannot give" in summary
            assert "approve requests to run official social media accounts" in summary
        else:
            assert "nobody can change their own roles" in summary
        assert "Nothing was changed" in summary
        assert_accessible(page)

    db.session.rollback()
    assert (role_keys(_hr()), role_keys(db.session.get(User, teacher.id))) == before
    assert db.session.scalar(select(func.count()).select_from(RoleChange)) == 0
