"""The service navigation marks exactly the entry for the page (or, on a page with none, its feature's first)."""

import re


def _active(html: str) -> list[str]:
    items = re.findall(r'<li class="govuk-service-navigation__item([^"]*)">\s*<a[^>]*>\s*(?:<strong[^>]*>)?([^<]+)', html)
    return [label.strip() for classes, label in items if "--active" in classes]


def test_one_entry_is_active_even_when_two_share_a_feature(client, login):
    login("staff", "e-act")
    assert _active(client.get("/acknowledgements").get_data(as_text=True)) == ["My acknowledgements"]
    assert _active(client.get("/acknowledge").get_data(as_text=True)) == ["Acknowledge"]
    first_module = re.search(r'href="(/modules/\d+)"', client.get("/").get_data(as_text=True)).group(1)
    assert _active(client.get(first_module).get_data(as_text=True)) == ["Your training"]
