"""Deep Linking: an LMS administrator adds the quiz (or the training, or one module) to a course; the platform
verifies the tool's signed reply against its keyset and gets an activity that opens that part."""

import re
from html import unescape

import requests
from sqlalchemy import select

from modules.core.extensions import db
from modules.training.queries import current_version
from tests.lti.conftest import launch_form, post_launch, register
from tests.lti.platform import INSTRUCTOR, Person


def _choose(client, platform, item: str):
    register(platform)
    platform.people["admin-1"] = Person("admin-1", "Lee Admin", "lee@tsat-school.example", [INSTRUCTOR])
    page = post_launch(client, launch_form(platform, client, "admin-1", kind="deep"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Add PolicyPass to your course" in html
    assert "The quiz only" in html and "The social media policy training" in html and "Module:" in html
    assert f"frame-ancestors {platform.base};" in page.headers["Content-Security-Policy"]
    token = unescape(re.search(r'name="launch" type="hidden" value="([^"]+)"', html).group(1))
    return client.post("/lti/deep-link", data={"launch": token, "item": item})


def test_admin_deep_links_the_quiz_and_the_platform_accepts_it(platform, client):
    reply = _choose(client, platform, "quiz")
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert f"form-action 'self' {platform.base}" in reply.headers["Content-Security-Policy"]
    action = unescape(re.search(r'action="([^"]+)"', html.split("<main", 1)[1]).group(1))
    jwt_value = re.search(r'name="JWT" value="([^"]+)"', html).group(1)
    assert action == f"{platform.base}/deep-link-return"
    accepted = requests.post(action, data={"JWT": jwt_value}, timeout=60)
    assert accepted.status_code == 200 and "The quiz only" in accepted.text
    [item] = platform.deep_link_items
    assert item["type"] == "ltiResourceLink" and item["url"] == "http://localhost/lti/launch"
    assert item["custom"] == {"policypass_target": "quiz"}
    assert item["lineItem"]["scoreMaximum"] == 100
    # The activity opens the quiz for a learner.
    platform.people["moodle-42"] = Person("moodle-42", "Pat Learner", "pat@tsat-school.example")
    launched = post_launch(client, launch_form(platform, client, "moodle-42", target="quiz"))
    assert launched.location == "/quiz"


def test_one_module_can_be_linked(platform, client):
    from modules.people.models import Trust

    trust = db.session.scalar(select(Trust).where(Trust.slug == "tsat"))
    section = current_version(trust.id).sections[1]
    reply = _choose(client, platform, f"module-{section.id}")
    jwt_value = re.search(r'name="JWT" value="([^"]+)"', reply.get_data(as_text=True)).group(1)
    requests.post(f"{platform.base}/deep-link-return", data={"JWT": jwt_value}, timeout=60).raise_for_status()
    assert platform.deep_link_items[0]["custom"] == {"policypass_target": f"module-{section.id}"}
    assert "lineItem" not in platform.deep_link_items[0]
    platform.people["moodle-42"] = Person("moodle-42", "Pat Learner", "pat@tsat-school.example")
    launched = post_launch(client, launch_form(platform, client, "moodle-42", target=f"module-{section.id}"))
    assert launched.location == f"/modules/{section.id}"


def test_a_changed_or_unknown_choice_is_refused(platform, client):
    assert client.post("/lti/deep-link", data={"launch": "forged", "item": "quiz"}).status_code == 400
    reply = _choose(client, platform, "module-999999")
    assert reply.status_code == 400 and platform.deep_link_items == []
