"""The service navigation marks exactly one entry for the page (or, on a page with none, its feature's first);
grouped entries stand in it as one entry leading to a hub page that lists those the person may use."""

import re

import pytest

HR_TOOLS = ["Import staff", "Evidence pack", "Certificates", "Declines and withdrawals", "Quiz results",
            "Policies", "Policy versions", "Upload a policy", "Email previews"]


def _entries(html: str) -> list[tuple[str, bool]]:
    items = re.findall(r'<li class="govuk-service-navigation__item([^"]*)">\s*<a[^>]*>\s*(?:<strong[^>]*>)?([^<]+)', html)
    return [(label.strip(), "--active" in classes) for classes, label in items]


def _labels(html: str) -> list[str]:
    return [label for label, _ in _entries(html)]


def _active(html: str) -> list[str]:
    return [label for label, active in _entries(html) if active]


def _hub(html: str) -> list[tuple[str, str]]:
    """(label, hint) of each entry listed on a hub page."""
    tools = re.search(r'<ul class="govuk-list" id="tools">(.*?)</ul>', html, re.S).group(1)
    return [(label.strip(), hint.strip()) for label, hint in
            re.findall(r'<a class="govuk-link" href="[^"]+">([^<]+)</a></h2>\s*<p class="govuk-body[^"]*">([^<]+)</p>',
                       tools)]


def _subnav(html: str) -> list[tuple[str, bool]]:
    """(label, current) of each entry of the page's sub-navigation."""
    found = re.search(r'<nav class="pp-subnav"[^>]*>(.*?)</nav>', html, re.S)
    if not found:
        return []
    return [(label.strip(), "--current" in classes) for classes, label in
            re.findall(r'<li class="pp-subnav__item([^"]*)"><a[^>]*>([^<]+)</a>', found.group(1))]


def test_one_entry_is_active_even_when_two_share_a_feature(client, login):
    login("staff", "e-act")
    html = client.get("/acknowledgements").get_data(as_text=True)
    assert _active(html) == ["My records"]
    assert _subnav(html) == [("My acknowledgements", True), ("My certificates", False)]
    html = client.get("/acknowledge").get_data(as_text=True)
    assert _active(html) == ["Your training"]
    assert _subnav(html) == [("Modules", False), ("Quiz", False), ("Acknowledge", True)]
    first_module = re.search(r'href="(/modules/\d+)"', client.get("/").get_data(as_text=True)).group(1)
    html = client.get(first_module).get_data(as_text=True)
    assert _active(html) == ["Your training"] and ("Modules", True) in _subnav(html)


def test_hr_sees_one_hr_tools_entry_instead_of_six(client, login):
    login("hr", "tkat")
    html = client.get("/").get_data(as_text=True)
    assert _labels(html) == ["Your training", "My records", "Official accounts", "Staff training", "Register",
                             "HR tools"]
    assert 'href="/tools/hr"' in html


@pytest.fixture
def app_config():
    """Every demo person signs in here, more often than the sign-in rate limit allows one address."""
    return {"RATELIMIT_ENABLED": False}


def test_no_role_sees_more_than_seven_entries_in_any_trust(app, login):
    """Issue 17: a headteacher had 11 entries on three rows (two team pages), the DPO 10. Each demo person of
    each trust, whatever roles they hold, sees at most MAX_TOP_ENTRIES, and no label twice."""
    from demo.cast import PEOPLE
    from modules.core.navigation import MAX_TOP_ENTRIES

    counts = {}
    for slug in ("tkat", "e-act", "tasmat", "tsat", "agora"):
        for local, *_ in PEOPLE:
            client = app.test_client()
            login(local, slug, client)
            labels = _labels(client.get("/").get_data(as_text=True))
            assert labels, (slug, local)
            assert len(labels) == len(set(labels)), (slug, local, labels)
            counts[(slug, local)] = len(labels)
    assert max(counts.values()) <= MAX_TOP_ENTRIES == 7, {k: v for k, v in counts.items() if v > 7}
    assert counts[("tkat", "head")] == 7 and counts[("tkat", "dpo")] == 7 and counts[("tkat", "staff")] == 3


def test_a_headteacher_finds_both_team_pages_under_my_team(client, login):
    login("head", "tkat")
    html = client.get("/tracking/team").get_data(as_text=True)
    assert _labels(html) == ["Your training", "My records", "Official accounts", "Staff training", "Approvals",
                             "My team", "Register"]
    assert _active(html) == ["My team"]
    assert _subnav(html) == [("Team training", True), ("Team sign-off", False)]
    assert _subnav(client.get("/access/team").get_data(as_text=True)) == [("Team training", False),
                                                                        ("Team sign-off", True)]


def test_the_hub_lists_every_hr_tool_with_its_hint(client, login):
    login("hr", "tkat")
    response = client.get("/tools/hr")
    assert response.status_code == 200
    listed = _hub(response.get_data(as_text=True))
    assert [label for label, _ in listed] == HR_TOOLS
    assert all(hint for _, hint in listed), "every tool says what it is for"
    assert dict(listed)["Import staff"] == "Upload a staff list from your MIS: preview, then apply"
    for path in ("/staff/import", "/tracking/evidence", "/certificates/manage", "/hr/acknowledgements",
                 "/quiz/analytics", "/hr/policy", "/hr/policy/upload"):
        assert f'href="{path}"' in response.get_data(as_text=True)


def test_the_hub_lists_only_what_the_person_may_use(client, login):
    login("dpo", "tkat")
    assert "HR tools" in _labels(client.get("/").get_data(as_text=True))
    assert [label for label, _ in _hub(client.get("/tools/hr").get_data(as_text=True))] == ["Evidence pack"]


def test_people_with_no_hr_tool_get_no_entry_and_no_hub(app, login):
    for person in ("head", "staff", "manager", "comms"):
        client = app.test_client()
        login(person, "tkat", client)
        labels = _labels(client.get("/").get_data(as_text=True))
        assert "HR tools" not in labels and not set(HR_TOOLS) & set(labels), person
        assert client.get("/tools/hr").status_code == 403, person


def test_an_unknown_group_is_a_404_and_the_hub_needs_sign_in(client, login):
    assert client.get("/tools/hr").status_code == 302
    login("hr", "tkat")
    assert client.get("/tools/nonsense").status_code == 404


def test_hr_tools_is_the_one_active_entry_on_the_hub_and_on_every_tool(client, login):
    login("hr", "tkat")
    for path in ("/tools/hr", "/staff/import", "/tracking/evidence", "/certificates/manage",
                 "/hr/acknowledgements", "/quiz/analytics", "/hr/policy"):
        assert _active(client.get(path).get_data(as_text=True)) == ["HR tools"], path
    version = re.search(r'href="(/hr/policy/versions/\d+)"', client.get("/hr/policy").get_data(as_text=True))
    assert _active(client.get(version.group(1)).get_data(as_text=True)) == ["HR tools"]
    # The dashboard keeps its own entry though the evidence pack belongs to the same feature.
    assert _active(client.get("/tracking").get_data(as_text=True)) == ["Staff training"]
    assert _active(client.get("/tracking/people").get_data(as_text=True)) == ["Staff training"]
    assert _active(client.get("/certificates").get_data(as_text=True)) == ["My records"]


def test_the_layout_renders_its_header_and_footer_once(app):
    """govuk_frontend_jinja's template renders the header and footer twice (to test them for content, then to
    print them); base.html renders each once, with the same markup."""
    from tests.conftest import demo_email
    from tests.helpers import sign_in

    asked: list[str] = []
    fixed_url = app.jinja_env.globals["fixed_url"]

    def counting(endpoint, **values):
        asked.append(endpoint)
        return fixed_url(endpoint, **values)

    client = app.test_client()
    sign_in(client, demo_email("staff", "tkat"))
    app.jinja_env.globals["fixed_url"] = counting
    try:
        page = client.get("/help").get_data(as_text=True)
    finally:
        app.jinja_env.globals["fixed_url"] = fixed_url
    assert page.count('<header class="govuk-template__header">') == 1
    assert page.count('<footer class="govuk-template__footer">') == 1
    assert page.count('id="account-bar"') == 1 and page.count('id="help-links"') == 1
    # the account bar's link (header) and the footer's help link, each worked out once for the page
    assert asked.count("account.overview") == 1
    assert asked.count("training.help") == (1 if "mailto:" in page else 2)  # the contact link is Help's too
