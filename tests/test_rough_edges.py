"""Issue 17 point 10, the rough edges, one test each: the quiz's plural, rounded percentages, a clear date
message, the public not-found page on /verify, "Incorrect" never above a right choice's "Yes.", decline and
withdraw asking first, the import help text, the invitation preview, help and contact HR, the print view, the
certificate's logo and signatory."""

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from modules.assessments.grading import grade
from modules.core.extensions import db
from modules.core.numbers import percent
from modules.tracking.queries import Counts
from tests.assessments.factories import demo_user
from tests.assessments.test_quiz_flow import one_question_attempt, token
from tests.helpers import csrf_token


def test_percentages_are_rounded_not_truncated():
    assert [percent(1, 6), percent(2, 3), percent(1, 3), percent(1, 2), percent(0, 0)] == [17, 67, 33, 50, 0]
    assert Counts(total=6, complete=1).percent == 17 and Counts(total=4, complete=2, exempt=1).percent == 67


def test_a_rounded_score_never_lifts_a_fail():
    from modules.assessments.grading import ItemKey

    keys = [ItemKey("single", ("a", "b"), frozenset({"a"}))] * 3
    graded = grade(keys, [["a"], ["a"], ["b"]], pass_mark=67)
    assert graded.score == 67 and graded.passed is False  # 2 of 3 is 66.7%: shown as 67%, still below 67


def test_a_one_question_quiz_says_answer_the_question(app, client, login, now):
    attempt = one_question_attempt("tkat", "pupil-friend-request", now)
    login("staff", "tkat")
    html = client.get(f"/quiz/attempts/{attempt.id}").get_data(as_text=True)
    assert "Answer the question, using" in html and "1 questions" not in html


def test_a_right_choice_is_never_shown_under_incorrect(app, client, login, now):
    """Choosing one of two right answers: "Partly correct", the choice marked right above its "Yes." feedback,
    the one missed marked, and no "Incorrect"."""
    attempt = one_question_attempt("tkat", "pupil-friend-request", now)  # right answers: b and c
    login("staff", "tkat")
    response = client.post(f"/quiz/attempts/{attempt.id}", data={"q1": ["b"], "csrf_token": token(client)})
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="verdict-1">Partly correct' in html and "Incorrect" not in html
    choice = re.search(r"Decline it: do not accept.*?</p>\s*<p class=\"govuk-body\">([^<]+)", html, re.S)
    assert "Right choice" in choice.group(0) and choice.group(1).startswith("Yes.")
    assert "You missed this" in html and "1 of 1 question correctly" not in html
    assert "You answered 0 of 1 question correctly" in html


def test_a_wrong_choice_is_still_incorrect(app, client, login, now):
    attempt = one_question_attempt("tkat", "pupil-friend-request", now)
    login("staff", "tkat")
    response = client.post(f"/quiz/attempts/{attempt.id}", data={"q1": ["a"], "csrf_token": token(client)})
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="verdict-1">Incorrect' in html and "Not a right choice" in html


def test_an_impossible_date_on_the_request_form_gets_a_clear_message(app):
    from modules.access.forms import NewAccountRequestForm, with_questions
    from modules.people.models import Trust

    rules = db.session.scalar(select(Trust).where(Trust.slug == "tsat")).rules
    with app.test_request_context(method="POST"):
        form = with_questions(NewAccountRequestForm, rules.request_form)(
            formdata=MultiDict([("q_go_live_on", "31"), ("q_go_live_on", "2"), ("q_go_live_on", "2027"),
                                ("q_closure_on", "x"), ("q_closure_on", "3"), ("q_closure_on", "2028")]),
            meta={"csrf": False})
        for field in form:
            if hasattr(field, "choices") and field.choices is None:
                field.choices = []  # the view fills these per trust; only the dates matter here
        form.validate()
    messages = [m for key, errors in form.errors.items() if key.startswith("q_") for m in errors]
    assert "Enter “Proposed date of going live” as a real date, for example 1 9 2027" in messages
    assert "Enter “Proposed date for site closure” as a real date, for example 1 9 2027" in messages
    assert not any("Not a valid date value" in m for m in messages)


def test_a_wrong_verification_code_shows_the_public_not_found_page(client):
    response = client.get("/verify/" + "0" * 32)
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "No certificate has this code" in html and "Go to your training" not in html
    assert 'href="/verify"' in html
    assert "Go to your training" not in client.get("/no-such-page").get_data(as_text=True)


def test_declining_asks_first_and_records_only_when_confirmed(app, client, login, now):
    from modules.attestation.models import Acknowledgement
    from tests.attestation.test_views import _pass

    _pass("staff", "agora", now)
    login("staff", "agora")
    assert 'href="/acknowledge/decline"' in client.get("/acknowledge").get_data(as_text=True)
    confirm = client.get("/acknowledge/decline").get_data(as_text=True)
    assert "Are you sure you do not agree to the policy?" in confirm
    user = demo_user("staff", "agora")
    db.session.commit()
    assert db.session.scalar(select(Acknowledgement).where(Acknowledgement.user_id == user.id)) is None
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', confirm).group(1)
    response = client.post("/acknowledge/decline", data={"csrf_token": csrf_token(confirm), "idempotency_key": key})
    assert response.status_code == 302
    db.session.commit()
    assert db.session.scalar(select(Acknowledgement.decision).where(Acknowledgement.user_id == user.id)) == "declined"


def test_withdrawing_a_request_asks_first(app, client, login, now):
    from modules.access.models import PENDING
    from tests.access.factories import account, join

    request = join("staff", "tkat", account("tkat", handle="@NP"))
    db.session.commit()
    login("staff", "tkat")
    detail = client.get(f"/access/requests/{request.id}").get_data(as_text=True)
    assert f'href="/access/requests/{request.id}/withdraw"' in detail and "<form method=\"post\" action=\"/access/requests" not in detail.split("withdraw")[0][-300:]
    confirm = client.get(f"/access/requests/{request.id}/withdraw").get_data(as_text=True)
    assert "Are you sure you want to withdraw your request?" in confirm
    db.session.commit()
    assert db.session.get(type(request), request.id).status == PENDING
    client.post(f"/access/requests/{request.id}/withdraw", data={"csrf_token": csrf_token(confirm)})
    db.session.commit()
    assert db.session.get(type(request), request.id).status == "withdrawn"


def test_the_import_help_says_which_columns_are_required(client, login):
    login("hr", "tkat")
    columns = re.search(r'<ul[^>]*id="columns">(.*?)</ul>', client.get("/staff/import").get_data(as_text=True),
                        re.S).group(1)
    items = [re.sub(r"\s+", " ", i).strip() for i in re.findall(r"<li>(.*?)</li>", columns, re.S)]
    assert "Name (required)" in items[0]
    assert not any("required; leave the academy empty" in i for i in items)
    assert any("leave it empty for someone in the central team" in i and i.lower().startswith("academy")
               for i in items)


def test_hr_previews_the_invitation_before_sending_it(app, client, login):
    staff = demo_user("staff", "tkat")
    staff.password_hash = None
    db.session.commit()
    login("hr", "tkat")
    person = client.get(f"/tracking/people/{staff.id}").get_data(as_text=True)
    assert f'href="/tracking/people/{staff.id}/invite"' in person
    preview = client.get(f"/tracking/people/{staff.id}/invite").get_data(as_text=True)
    assert "Set your password for TKAT policy training" in preview
    assert "[a new one-time link, made when you send this]" in preview and "preview-token" not in preview


def test_every_staff_page_links_to_help_and_contact_hr(client, login):
    login("staff", "tkat")
    for path in ("/", "/quiz", "/acknowledgements", "/certificates", "/access/accounts", "/help"):
        html = client.get(path).get_data(as_text=True)
        assert 'href="/help"' in html, path
        assert 'href="mailto:hr@tkat.demo.policypass.uk"' in html and "Contact HR" in html, path
    client.post("/sign-out")


def test_without_an_hr_email_contact_hr_leads_to_the_help_page(app, login):
    client = app.test_client()
    login("staff", "agora", client)
    html = client.get("/").get_data(as_text=True)
    assert 'href="/help#contact-hr"' in html
    assert "has not given an email address" in client.get("/help").get_data(as_text=True)


def test_the_whole_policy_prints_on_one_page(client, login):
    from modules.training.queries import current_version

    login("staff", "tkat")
    version = current_version(demo_user("staff", "tkat").trust_id)
    html = client.get("/policy/print").get_data(as_text=True)
    assert html.count('class="pp-print-section"') == len(version.sections) > 5
    for section in version.sections:
        assert f'id="section-{section.id}"' in html


def _rendered(cert, now) -> bytes:
    """The certificate's PDF, rendered after its commit as the worker would."""
    from modules.certificates.pdfs import render_certificates

    db.session.commit()
    render_certificates([cert.id], now=now)
    db.session.commit()
    db.session.expire_all()
    assert cert.pdf_bytes
    return cert.pdf_bytes


def test_the_certificate_shows_the_trusts_logo_and_signatory(app, now):
    from tests.access.factories import certify

    cert = certify(demo_user("staff", "tkat"), now)
    pdf = _rendered(cert, now)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "The Kemnal Academies Trust" in text
    assert "Harriet Hughes" in text and "HR Manager" in text  # the signatory (a trust setting)
    assert "TKAT" in text  # the placeholder logo's lettering, drawn from content/logos/tkat.svg


def test_no_signatory_unless_the_trust_gives_one(app, now):
    from tests.access.factories import certify

    cert = certify(demo_user("staff", "agora"), now)
    pdf = _rendered(cert, now)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Agora Learning Partnership" in text and "Harriet Hughes" not in text


@pytest.mark.parametrize("value", ["../secrets.svg", "logos/x.png", "/etc/passwd"])
def test_a_logo_outside_content_logos_is_refused(value):
    from modules.people.rules import RulesError, TrustRules

    with pytest.raises(RulesError) as err:
        TrustRules.from_mapping({"logo": value})
    assert err.value.key == "logo"
