"""Issue 17 point 10: the trust settings page lists the newer rules (HR contact, certificate signatory and logo,
retention, escalation, deadlines, reminders, refresh), read from the one typed rules object, each quoting the
clause that states it or labelled a trust setting."""

from modules.attestation.settings import setting_groups
from modules.people.rules import TrustRules


def _rows(rules, labels=None):
    return {row.key: row for _, rows in setting_groups(rules, labels or {}) for row in rows}


def test_defaults_are_shown_in_words_as_trust_settings():
    rows = _rows(TrustRules(), {"headteacher": "Principal", "ceo": "Chief executive"})
    assert rows["escalation"].value == ("The line manager after 14 days overdue; then the Principal (the Chief "
                                        "executive for the central team) after 28 days overdue")
    assert rows["retention_months_after_leaving"].value.startswith("72 months after the day they left")
    assert rows["certificate_signatory"].value == "None: certificates carry no signatory"
    assert rows["hr_contact"].value == "HR (through the help page)"
    assert rows["refresh"].value == "12 months after each person's last completion, assigned 30 days before it is due"
    assert rows["new_version_days"].value == "30 days after it takes effect"
    assert all(row.clauses == () for row in rows.values())  # none stated by a policy: all trust settings


def test_set_rules_and_their_clauses():
    rules = TrustRules.from_mapping({
        "certificate_signatory": {"name": "Jo Bloggs", "role": "CEO"}, "logo": "logos/my-trust.svg",
        "hr_contact": {"name": "the People team", "email": "people@example.org"},
        "refresh": {"mode": "window", "month": 9}, "reminders": False,
        "sources": {"certificate_validity_months": ["7.2"]}})
    rows = _rows(rules)
    assert rows["certificate_signatory"].value == "Jo Bloggs, CEO"
    assert rows["logo"].value == "logos/my-trust.svg"
    assert rows["hr_contact"].value == "the People team (people@example.org)"
    assert rows["refresh"].value.startswith("Every year from 1 September, due 30 days later")
    assert rows["reminders"].value.startswith("Off")
    assert rows["certificate_validity_months"].clauses == ("7.2",)


def test_the_page_shows_them_to_the_trust_administrator(app, client, login):
    login("admin", "tkat")
    html = client.get("/trust/settings").get_data(as_text=True)
    assert "Harriet Hughes, HR Manager" in html and "logos/tkat.svg" in html
    assert "HR (hr@tkat.demo.policypass.uk)" in html
    assert 'id="setting-escalation"' in html and "after 14 days overdue" in html
    assert html.count("Trust setting") >= 18
