"""The pages, as the people they name use them: staff acknowledge, decline, withdraw; HR sees and records."""

import re
from datetime import timedelta

from sqlalchemy import func, select, update

from modules.attestation.models import Acknowledgement
from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.evidence.ledger import verify_ledger
from modules.people.models import LoginSession
from tests.attestation.factories import demo_user, passed_attempt
from tests.helpers import csrf_token


def hidden(html: str, name: str) -> str:
    """The value of a hidden input on the page."""
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html) or re.search(
        rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden {name} on the page"
    return match.group(1)


def _form(client, path: str) -> dict:
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    return {"csrf_token": csrf_token(html), "idempotency_key": hidden(html, "idempotency_key"),
            "shown_digest": hidden(html, "shown_digest"), "_html": html}


def _pass(local: str, slug: str, now) -> None:
    passed_attempt(demo_user(local, slug), now=now)
    db.session.commit()


def _count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Acknowledgement))


def test_not_open_before_a_passed_attempt(client, login):
    login("staff", "tkat")
    page = client.get("/acknowledge")
    assert page.status_code == 200 and "after you have read its modules and passed the quiz" in page.get_data(
        as_text=True)


def test_staff_acknowledge_and_get_the_same_receipt_on_a_retry(client, login, now):
    _pass("staff", "e-act", now)
    login("staff", "e-act")
    form = _form(client, "/acknowledge")
    html = form.pop("_html")
    # Issue 12: one box for the policy; consent is its own question (two radios, neither chosen).
    assert html.count('type="checkbox"') == 1 and html.count('type="radio"') == 2 and "checked" not in html
    assert "You consent to such monitoring by your acknowledgement of this Policy" in html
    assert "You can still acknowledge the policy and get your certificate" in html
    assert "Clause 4.3.2 says consent is given “by your acknowledgement of this Policy" in html
    data = {**form, "statement_policy": "y", "consent": "yes", "full_name": "sam taylor",
            "acknowledge": "Acknowledge and sign"}
    first = client.post("/acknowledge", data=data)
    assert first.status_code == 302 and "/acknowledgements/" in first.location
    retry = client.post("/acknowledge", data=data)
    assert retry.location == first.location and _count() == 2  # the acknowledgement and the consent decision
    receipt = client.get(first.location).get_data(as_text=True)
    assert "Policy acknowledged" in receipt and "Sam Taylor" in receipt
    assert re.search(r'id="receipt-consent">Consent given, a separate decision', receipt)
    assert "Your certificate has been issued" in receipt
    assert "Entry 1 of the E-ACT ledger" in receipt or "of the E-ACT ledger" in receipt
    mine = client.get("/acknowledgements").get_data(as_text=True)
    assert first.location.rsplit("/", 1)[1] in mine
    assert client.get("/acknowledge").location == first.location  # already acknowledged: the receipt
    assert verify_ledger().ok


def test_passing_again_opens_a_renewal_that_makes_a_new_record(client, login, now):
    """An annual refresh on the same version: after a new pass the form is shown again, without "decline"."""
    _pass("staff", "tkat", now)
    login("staff", "tkat")
    form = _form(client, "/acknowledge")
    form.pop("_html")
    data = {**form, "statement_policy": "y", "full_name": "Sam Taylor", "acknowledge": "Acknowledge and sign"}
    first = client.post("/acknowledge", data=data)
    assert client.get("/acknowledge").location == first.location
    _pass("staff", "tkat", now + timedelta(days=340))
    form = _form(client, "/acknowledge")
    html = form.pop("_html")
    assert "acknowledge it again to renew your certificate" in html and "I do not agree" not in html
    second = client.post("/acknowledge", data={**data, **form})
    assert second.status_code == 302 and second.location != first.location and _count() == 2
    assert client.get("/acknowledge").location == second.location
    assert verify_ledger().ok


def test_unticked_statement_or_wrong_name_is_refused_with_errors(client, login, now):
    _pass("staff", "tsat", now)
    login("staff", "tsat")
    form = _form(client, "/acknowledge")
    form.pop("_html")
    response = client.post("/acknowledge", data={**form, "statement_policy": "y", "full_name": "Sam Taylor",
                                                 "acknowledge": "Acknowledge and sign"})
    assert response.status_code == 400 and "Tick this box" in response.get_data(as_text=True)
    response = client.post("/acknowledge", data={**form, "statement_policy": "y", "statement_monitoring": "y",
                                                 "full_name": "Sam Tailor", "acknowledge": "Acknowledge and sign"})
    assert response.status_code == 400 and "must match the name" in response.get_data(as_text=True)
    assert _count() == 0


def test_missing_idempotency_key_is_a_400(client, login, now):
    _pass("staff", "tkat", now)
    login("staff", "tkat")
    form = _form(client, "/acknowledge")
    response = client.post("/acknowledge", data={"csrf_token": form["csrf_token"], "statement_policy": "y",
                                                 "full_name": "Sam Taylor", "acknowledge": "x"})
    assert response.status_code == 400 and _count() == 0


def test_old_sign_in_is_asked_to_reauthenticate(app, client, login, now):
    _pass("staff", "tkat", now)
    login("staff", "tkat")
    user = demo_user("staff", "tkat")
    minutes = user.trust.rules.reauth_minutes
    db.session.execute(update(LoginSession).where(LoginSession.user_id == user.id).values(
        authenticated_at=utcnow() - timedelta(minutes=minutes + 1)))
    db.session.commit()
    response = client.get("/acknowledge")
    assert response.status_code == 302 and "/reauthenticate?next=/acknowledge" in response.location
    page = client.get(response.location).get_data(as_text=True)
    client.post(response.location, data={"csrf_token": csrf_token(page), "password": "policypass-demo"})
    assert client.get("/acknowledge").status_code == 200


def test_decline_is_recorded_and_hr_sees_it(app, client, login, now):
    _pass("staff", "agora", now)
    login("staff", "agora")
    form = _form(client, "/acknowledge")
    form.pop("_html")
    # "I do not agree" only leads to a confirmation page: nothing is recorded until it is confirmed.
    assert 'href="/acknowledge/decline"' in client.get("/acknowledge").get_data(as_text=True)
    response = client.post("/acknowledge", data={**form, "decline": "I do not agree"})
    assert response.status_code == 303 and response.location.endswith("/acknowledge/decline")
    assert "Declined" not in client.get("/acknowledgements").get_data(as_text=True)
    confirm = client.get("/acknowledge/decline").get_data(as_text=True)
    assert "Are you sure you do not agree to the policy?" in confirm
    response = client.post("/acknowledge/decline", data={"csrf_token": csrf_token(confirm),
                                                         "idempotency_key": hidden(confirm, "idempotency_key")})
    assert response.status_code == 302
    assert "Declined" in client.get(response.location).get_data(as_text=True)
    hr = app.test_client()
    login("hr", "agora", hr)
    page = hr.get("/hr/acknowledgements").get_data(as_text=True)
    assert "Sam Taylor" in page and "Declined" in page


def _acknowledge_eact(client, consent: str = "yes") -> None:
    form = _form(client, "/acknowledge")
    form.pop("_html")
    response = client.post("/acknowledge", data={**form, "statement_policy": "y", "consent": consent,
                                                 "full_name": "Sam Taylor", "acknowledge": "x"})
    assert response.status_code == 302, response.status_code


def _withdraw(client, reason: str = "") -> object:
    """Open the withdrawal confirmation page from the consent page and confirm it."""
    page = client.get("/consent").get_data(as_text=True)
    assert 'href="/consent/withdraw"' in page
    confirm = client.get("/consent/withdraw").get_data(as_text=True)
    assert "Are you sure you want to withdraw your consent to monitoring?" in confirm
    return client.post("/consent/withdraw", data={"csrf_token": csrf_token(confirm), "reason": reason,
                                                  "idempotency_key": hidden(confirm, "idempotency_key")})


def test_eact_withdrawal_asks_to_confirm_records_a_reason_hr_sees_it_then_consent_again(app, client, login, now):
    _pass("staff", "e-act", now)
    login("staff", "e-act")
    _acknowledge_eact(client)
    page = client.get("/consent").get_data(as_text=True)
    assert "You gave your consent" in page
    withdraw = _withdraw(client, reason="I prefer not to be monitored")
    assert withdraw.status_code == 302
    receipt = client.get(withdraw.location).get_data(as_text=True)
    assert "Consent withdrawn" in receipt and "I prefer not to be monitored" in receipt
    assert "With effect from" in receipt
    hr = app.test_client()
    login("hr", "e-act", hr)
    assert "Consent withdrawn" in hr.get("/hr/acknowledgements").get_data(as_text=True)
    listing = hr.get("/hr/consent").get_data(as_text=True)
    assert "Consent withdrawn" in listing and "I prefer not to be monitored" in listing
    page = client.get("/consent").get_data(as_text=True)
    assert "You withdrew your consent" in page and "I prefer not to be monitored" in page
    keys = re.findall(r'name="idempotency_key" type="hidden" value="([^"]*)"', page)
    given = client.post("/consent/give", data={"csrf_token": csrf_token(page), "idempotency_key": keys[-1],
                                               "shown_digest": hidden(page, "shown_digest"), "consent": "y",
                                               "full_name": "Sam Taylor"})
    assert given.status_code == 302
    assert "You gave your consent" in client.get("/consent").get_data(as_text=True)
    assert verify_ledger().ok


def test_declining_consent_still_acknowledges_and_the_dpo_sees_it(app, client, login, now):
    _pass("staff", "e-act", now)
    login("staff", "e-act")
    _acknowledge_eact(client, consent="no")
    mine = client.get("/acknowledgements").get_data(as_text=True)
    assert "Acknowledged" in mine and "Consent declined" in mine
    dpo = app.test_client()
    login("dpo", "e-act", dpo)
    listing = dpo.get("/hr/consent")
    assert listing.status_code == 200 and "Sam Taylor" in listing.get_data(as_text=True)
    assert "Consent declined" in listing.get_data(as_text=True)
    record = re.search(r'href="/acknowledgements/(\d+)">ACK-', listing.get_data(as_text=True)).group(1)
    assert dpo.get(f"/acknowledgements/{record}").status_code == 200  # the DPO may open a consent record
    assert "Monitoring consent" in dpo.get("/tools/hr").get_data(as_text=True)
    assert verify_ledger().ok


def test_an_unanswered_or_forged_consent_choice_is_a_clear_error(client, login, now):
    _pass("staff", "e-act", now)
    login("staff", "e-act")
    for value in ("", "maybe"):
        form = _form(client, "/acknowledge")
        form.pop("_html")
        response = client.post("/acknowledge", data={**form, "statement_policy": "y", "consent": value,
                                                     "full_name": "Sam Taylor", "acknowledge": "x"})
        assert response.status_code == 400
        assert "Choose whether you consent" in response.get_data(as_text=True)
    assert _count() == 0


def test_withdrawal_reason_too_long_is_shown_not_recorded(client, login, now):
    _pass("staff", "e-act", now)
    login("staff", "e-act")
    _acknowledge_eact(client)
    before = _count()
    response = _withdraw(client, reason="x" * 1001)
    assert response.status_code == 400 and "1000 characters" in response.get_data(as_text=True)
    assert _count() == before


def test_consent_list_and_settings_pages_by_trust(app, client, login):
    login("hr", "tsat")
    assert client.get("/hr/consent").status_code == 404  # a notice-only trust has no consent decisions
    hub = client.get("/tools/hr").get_data(as_text=True)
    assert "Monitoring consent" not in hub
    other = app.test_client()
    login("dpo", "e-act", other)
    settings = other.get("/trust/settings").get_data(as_text=True)
    assert "Note for the Data Protection Officer" in settings
    assert "Clause 4.3.2 treats use or acknowledgement as consent" in settings
    assert "by your acknowledgement of this Policy and your use of such resources and systems" in settings
    notice = app.test_client()
    login("dpo", "tsat", notice)
    page = notice.get("/trust/settings").get_data(as_text=True)
    assert "Note for the Data Protection Officer" not in page and "consent" not in page.lower()
    assert client.get("/trust/settings").status_code == 403  # HR is not given the settings page


def test_consent_given_on_an_earlier_version_can_still_be_withdrawn(app, client, login, now):
    """E-ACT publishes version 2; Sam's consent under version 1 stands and is withdrawn as easily as before.
    "My acknowledgements" links to the consent page (and only in a trust that asks for consent)."""
    from modules.policies import queries as policy_queries
    from modules.policies.services import london_date, publish_draft

    _pass("staff", "e-act", now)
    login("staff", "e-act")
    _acknowledge_eact(client)
    trust = demo_user("staff", "e-act").trust
    draft = max(policy_queries.versions_of(trust.id), key=lambda v: v.number)
    published = utcnow()
    publish_draft(draft, effective_on=london_date(published), now=published)
    db.session.commit()
    assert "Monitoring consent" in client.get("/acknowledgements").get_data(as_text=True)
    page = client.get("/consent").get_data(as_text=True)
    assert "You gave your consent" in page and "version 1" in page
    withdraw = _withdraw(client)
    assert withdraw.status_code == 302 and "/acknowledgements/" in withdraw.location
    assert "Consent withdrawn" in client.get(withdraw.location).get_data(as_text=True)
    assert verify_ledger().ok
    other = app.test_client()
    login("staff", "tkat", other)
    assert "Monitoring consent" not in other.get("/acknowledgements").get_data(as_text=True)


def test_consent_page_is_404_where_the_trust_asks_no_consent(client, login):
    login("staff", "tsat")
    assert client.get("/consent").status_code == 404


def test_hr_records_a_paper_form(app, client, login, now):
    login("hr", "tkat")
    form = _form(client, "/hr/acknowledgements/record")
    form.pop("_html")
    person = demo_user("office", "tkat")
    data = {**form, "person": str(person.id), "statement_policy": "y", "full_name": "Tom Reid",
            "note": "Paper form signed 3 November 2026, filed with HR"}
    response = client.post("/hr/acknowledgements/record", data=data)
    assert response.status_code == 302
    receipt = client.get(response.location).get_data(as_text=True)
    assert "Recorded from a paper form by Harriet Hughes" in receipt and "filed with HR" in receipt
    assert client.post("/hr/acknowledgements/record", data=data).location == response.location
    assert _count() == 1
    # another trust's person, or an unknown id, in the form: 400 and nothing recorded
    foreign = demo_user("office", "e-act")
    form = _form(client, "/hr/acknowledgements/record")
    form.pop("_html")
    for bad in (str(foreign.id), "999999"):
        response = client.post("/hr/acknowledgements/record", data={**form, **{k: v for k, v in data.items()
                                                                              if k not in form}, "person": bad})
        assert response.status_code == 400
    assert _count() == 1


def test_receipts_are_private_to_the_person_and_their_hr(app, client, login, now):
    _pass("staff", "tkat", now)
    login("staff", "tkat")
    form = _form(client, "/acknowledge")
    form.pop("_html")
    receipt = client.post("/acknowledge", data={**form, "statement_policy": "y", "full_name": "Sam Taylor",
                                                "acknowledge": "x"}).location
    for local, status in (("teacher", 404), ("manager", 404), ("hr", 200)):
        other = app.test_client()
        login(local, "tkat", other)
        assert other.get(receipt).status_code == status, local
    foreign_hr = app.test_client()
    login("hr", "e-act", foreign_hr)
    assert foreign_hr.get(receipt).status_code == 404


def test_eact_paper_form_asks_hr_what_the_form_shows_about_consent(client, login):
    """Issue 12: HR's paper-form page never tells HR "ticking this box gives your consent"; consent is a
    separate question about what the person chose on the form, recorded as its own decision."""
    login("hr", "e-act")
    form = _form(client, "/hr/acknowledgements/record")
    html = form.pop("_html")
    assert "gives your consent" not in html
    assert "On the paper form, did the person consent to monitoring?" in html
    assert html.count('type="checkbox"') == 1 and html.count('type="radio"') == 2
    person = demo_user("office", "e-act")
    data = {**form, "person": str(person.id), "statement_policy": "y", "full_name": person.name,
            "note": "Signed on paper, filed with HR", "consent": "no"}
    response = client.post("/hr/acknowledgements/record", data=data)
    assert response.status_code == 302
    assert "Consent declined" in client.get("/hr/consent").get_data(as_text=True)
    assert verify_ledger().ok


def test_notice_trust_paper_form_and_acknowledge_page_never_say_consent(client, login, now):
    login("hr", "tasmat")
    html = _form(client, "/hr/acknowledgements/record").pop("_html")
    main = html.split('<main', 1)[1].split('</main>', 1)[0]
    assert "consent" not in main.lower()
    _pass("staff", "agora", now)
    staff = client.application.test_client()
    login("staff", "agora", staff)
    page = staff.get("/acknowledge").get_data(as_text=True)
    assert "Monitoring notice" in page and "consent" not in page.split('<main', 1)[1].split('</main>', 1)[0].lower()
