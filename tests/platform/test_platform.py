"""Setting up a trust without a developer: the platform administrator (a role above trusts, through the platform's
own trust), `flask trust create-admin | create | export | import`, the platform pages, and the trust
administrator's rules page, checked by the one TrustRules object."""

import re
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from modules.core.extensions import db
from modules.notifications.models import OutboxMessage
from modules.people.models import Academy, SecurityEvent, Trust, User
from modules.people.passwords import hash_password
from modules.platform import services
from modules.platform.cli import dump
from tests.helpers import sign_in

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ("tkat", "e-act", "tasmat", "tsat", "agora")
ADMIN = "root@platform.example.org"
PASSWORD = "a long platform passphrase 9"
TOKEN_RE = re.compile(r'name="(?:[a-z]+-)?csrf_token" type="hidden" value="([^"]+)"')


def _token(html: str) -> str:
    return TOKEN_RE.search(html).group(1)


def _platform_admin(app, now) -> User:
    result = app.test_cli_runner().invoke(args=["trust", "create-admin", ADMIN, "--name", "Pat Platform"])
    assert result.exit_code == 0, result.output
    assert "/set-password/" in result.output
    user = db.session.scalar(select(User).where(User.email == ADMIN))
    user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    return user


@pytest.fixture
def platform_client(app, client, now):
    """A client signed in as a platform administrator made by `flask trust create-admin`."""
    _platform_admin(app, now)
    sign_in(client, ADMIN, PASSWORD)
    return client


def _trusts() -> int:
    return db.session.scalar(select(func.count()).select_from(Trust))


def test_create_admin_makes_a_platform_administrator_above_trusts(app, now):
    user = _platform_admin(app, now)
    trust = user.trust
    assert trust.platform and trust.slug == services.PLATFORM_SLUG
    assert user.can("platform:manage") and not user.can("training:take") and not user.can("tracking:view")
    assert [r.role.key for r in user.role_assignments] == ["platform_admin"]
    # The invitation email went through the outbox, as a staff import's does.
    assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == ADMIN)) is not None
    # Run again: no second trust or role.
    again = app.test_cli_runner().invoke(args=["trust", "create-admin", ADMIN, "--name", "Pat Platform"])
    assert again.exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(Trust).where(Trust.platform.is_(True))) == 1
    # A trust's person cannot be made one.
    taken = app.test_cli_runner().invoke(args=["trust", "create-admin", "hr@tkat.demo.policypass.uk", "--name", "H"])
    assert taken.exit_code == 2 and "already a person of a trust" in taken.output


def test_platform_trust_is_left_out_of_every_list_of_trusts(app, now):
    _platform_admin(app, now)
    from modules.tracking.jobs import trusts

    assert services.PLATFORM_SLUG not in [t.slug for t in trusts()]
    assert services.PLATFORM_SLUG not in [t.slug for t in services.school_trusts()]


def test_a_trust_role_may_never_carry_platform_manage():
    from modules.people.services import PeopleError, trust_roles

    with pytest.raises(PeopleError, match="platform administrators"):
        trust_roles({"default_roles": {}}, {"roles": {"hr": {"label": "HR", "capabilities": ["platform:manage"]}}})


def test_cli_create_trust_and_its_refusals(app):
    runner = app.test_cli_runner()
    made = runner.invoke(args=["trust", "create", "north-downs", "--name", "North Downs Learning Trust",
                               "--short-name", "NDLT"])
    assert made.exit_code == 0, made.output
    trust = db.session.scalar(select(Trust).where(Trust.slug == "north-downs"))
    assert trust.short_name == "NDLT" and trust.rules.pass_mark == 80 and not trust.settings
    assert {"staff", "hr", "trust_admin"} <= set(services.role_scopes(trust))
    count = _trusts()
    for args, message in ((["north-downs", "--name", "Again"], "already exists"),
                          (["tkat", "--name", "Again"], "already exists"),
                          (["Bad Slug", "--name", "X"], "lower-case"),
                          (["ok-slug", "--name", "Line\nbreak"], "one line"),
                          (["ok-slug", "--name", "  "], "Enter the trust's full name")):
        result = runner.invoke(args=["trust", "create", *args])
        assert result.exit_code == 2 and message in result.output, (args, result.output)
    assert _trusts() == count


def test_platform_admin_starts_at_trusts_and_never_sees_trust_staff_pages(platform_client):
    home = platform_client.get("/", follow_redirects=True)
    assert home.status_code == 200 and "Set up a trust" in home.get_data(as_text=True)
    for path in ("/hr/overdue", "/hr", "/staff/import", "/security/events", "/trust/rules", "/trust/settings",
                 "/register", "/modules/1"):
        response = platform_client.get(path)
        assert response.status_code in (403, 404), (path, response.status_code)
    page = platform_client.get("/platform/").get_data(as_text=True)
    assert "The Kemnal Academies Trust" in page and "staff@tkat" not in page
    assert platform_client.get("/platform/trusts/nope").status_code == 404
    assert platform_client.get(f"/platform/trusts/{services.PLATFORM_SLUG}").status_code == 404


def test_create_trust_academy_and_invite_in_the_browser(platform_client):
    page = platform_client.get("/platform/trusts/new").get_data(as_text=True)
    token = _token(page)
    bad = [({"slug": "tkat", "name": "Copy", "short_name": "C"}, "already exists"),
           ({"slug": "new-trust", "name": "Bad\x07name", "short_name": "N"}, "one line"),
           ({"slug": "new-trust", "name": "", "short_name": "N"}, "Enter the trust&#39;s full name"),
           ({"slug": "New_Trust!", "name": "N", "short_name": "N"}, "lower-case")]
    count = _trusts()
    for data, message in bad:
        response = platform_client.post("/platform/trusts/new", data={**data, "csrf_token": token})
        html = response.get_data(as_text=True)
        assert response.status_code == 400 and "govuk-error-summary" in html and message in html, data
    assert _trusts() == count
    done = platform_client.post("/platform/trusts/new", data={
        "slug": "north-downs", "name": "North Downs Learning Trust", "short_name": "NDLT", "csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"].endswith("/platform/trusts/north-downs")
    db.session.rollback()  # a fresh read of what the requests committed
    trust = db.session.scalar(select(Trust).where(Trust.slug == "north-downs"))
    page = platform_client.get("/platform/trusts/north-downs").get_data(as_text=True)
    token = _token(page)
    added = platform_client.post("/platform/trusts/north-downs/academies",
                                 data={"academy-name": "Hilltop Primary", "academy-csrf_token": token})
    assert added.status_code == 302
    again = platform_client.post("/platform/trusts/north-downs/academies",
                                 data={"academy-name": "Hilltop Primary", "academy-csrf_token": token})
    assert again.status_code == 400 and "already has an academy" in again.get_data(as_text=True)
    db.session.rollback()
    assert [a.name for a in db.session.scalars(select(Academy).where(Academy.trust_id == trust.id))] == [
        "Hilltop Primary"]
    refused = platform_client.post("/platform/trusts/north-downs/administrators", data={
        "admin-name": "Ada", "admin-email": "hr@tkat.demo.policypass.uk", "admin-csrf_token": token})
    assert refused.status_code == 400 and "already has an account" in refused.get_data(as_text=True)
    invited = platform_client.post("/platform/trusts/north-downs/administrators", data={
        "admin-name": "Ada Admin", "admin-email": "Ada@NorthDowns.example.org", "admin-csrf_token": token})
    assert invited.status_code == 302
    db.session.rollback()
    ada = db.session.scalar(select(User).where(User.email == "ada@northdowns.example.org"))
    assert ada.trust_id == trust.id and ada.can("trust:admin") and ada.password_hash is None
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == ada.email))
    assert "/set-password/" in mail.body
    kinds = set(db.session.scalars(select(SecurityEvent.kind).where(SecurityEvent.trust_id == trust.id)))
    assert {"trust-created", "academy-added", "trust-admin-invited"} <= kinds


def _rules_form(client) -> dict:
    """The rules page's fields as the browser would submit them unchanged."""
    html = client.get("/trust/rules").get_data(as_text=True)
    data: dict = {"csrf_token": _token(html)}
    for name, value in re.findall(r'<input[^>]*name="([a-z0-9_]+)"[^>]*type="text"[^>]*value="([^"]*)"', html):
        data[name] = value
    for name, value in re.findall(r'<input[^>]*name="([a-z0-9_]+)"[^>]*type="(?:radio|checkbox)"[^>]*value="([^"]*)"'
                                  r'[^>]*checked', html):
        data.setdefault(name, []).append(value) if name == "monitoring_clauses" else data.__setitem__(name, value)
    for select_html in re.findall(r'<select[^>]*name="([a-z0-9_]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', select_html[1])
        data[select_html[0]] = next((g for g in chosen.groups() if g is not None), "") if chosen else ""
    return data


@pytest.mark.parametrize("slug", SEEDS)
def test_rules_page_unchanged_submit_changes_nothing(app, client, login, slug):
    login("admin", slug)
    trust = db.session.scalar(select(Trust).where(Trust.slug == slug))
    before = dict(trust.settings)
    response = client.post("/trust/rules", data=_rules_form(client))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    db.session.rollback()
    assert db.session.get(Trust, trust.id).settings == before


def test_rules_page_refuses_with_the_rules_object_and_saves_audited(app, client, login):
    login("admin", "tasmat")
    trust = db.session.scalar(select(Trust).where(Trust.slug == "tasmat"))
    before = dict(trust.settings)
    data = _rules_form(client)
    page = client.get("/trust/rules").get_data(as_text=True)
    assert "From clause 8.1" in page and "Trust setting" in page
    for changes, message in (({"pass_mark": "120"}, "Pass mark (per cent) must be between 0 and 100, not 120"),
                             ({"pass_mark": "eighty"}, "must be a whole number"),
                             ({"monitoring_clauses": ["99.9"]}, "The policy has no clause"),
                             ({"monitoring_kind": "consent", "monitoring_clauses": []},
                              "must name the clauses that state it"),
                             ({"step0_approver": "role:nobody"}, "the trust has no role"),
                             ({"pass_mark_clauses": "42.42"}, "The policy has no clause &#39;42.42&#39;")):
        response = client.post("/trust/rules", data={**data, **changes})
        html = response.get_data(as_text=True)
        assert response.status_code == 400 and "govuk-error-summary" in html and message in html, (changes, html[:2000])
        db.session.rollback()
        assert db.session.get(Trust, trust.id).settings == before
    response = client.post("/trust/rules", data={**data, "pass_mark": "85", "pass_mark_clauses": "8.1",
                                                 "monitoring_kind": "consent", "monitoring_clauses": ["8.1"]})
    assert response.status_code == 302
    db.session.rollback()
    trust = db.session.get(Trust, trust.id)
    assert trust.rules.pass_mark == 85 and trust.rules.source("pass_mark") == ("8.1",)
    assert trust.rules.monitoring.kind == "consent"
    assert trust.settings["approval_chain"] == before["approval_chain"]  # untouched rules keep their stored form
    event = db.session.scalar(select(SecurityEvent).where(SecurityEvent.kind == "rules-changed",
                                                          SecurityEvent.trust_id == trust.id))
    assert event.details["after"]["pass_mark"] == 85 and "monitoring" in event.target
    page = client.get("/trust/rules").get_data(as_text=True)
    assert 'id="now-pass-mark">85%' in page


def _yaml_entries() -> dict:
    return {e["slug"]: e for e in yaml.safe_load((ROOT / "content" / "trusts.yaml").read_text())["trusts"]}


@pytest.mark.parametrize("slug", SEEDS)
def test_export_is_the_trusts_yaml_entry_and_import_round_trips(app, slug, tmp_path):
    """trusts.yaml → database → export gives back the entry; importing the export changes nothing and exports
    the same text again."""
    runner = app.test_cli_runner()
    exported = runner.invoke(args=["trust", "export", slug])
    assert exported.exit_code == 0, exported.output
    document = yaml.safe_load(exported.output)
    assert document == {"trusts": [_yaml_entries()[slug]]}
    path = tmp_path / f"{slug}.yaml"
    path.write_text(exported.output, encoding="utf-8")
    trust = db.session.scalar(select(Trust).where(Trust.slug == slug))
    trust.settings = {"pass_mark": 50}  # changed in the browser since; the import puts the file's rules back
    db.session.commit()
    imported = runner.invoke(args=["trust", "import", str(path)])
    assert imported.exit_code == 0, imported.output
    db.session.rollback()
    again = runner.invoke(args=["trust", "export", slug])
    assert again.output == exported.output


def test_import_refuses_what_content_sync_refuses(app, tmp_path):
    entry = dict(_yaml_entries()["tkat"])
    for rules, message in (({"pass_mark": 300}, "rules.pass_mark: must be between 0 and 100"),
                           ({"monitoring": {"kind": "notice", "clauses": ["99.1"]}}, "has no clause '99.1'"),
                           ({"no_such_rule": 1}, "unknown rule")):
        path = tmp_path / "bad.yaml"
        path.write_text(dump([{**entry, "rules": rules}]), encoding="utf-8")
        before = db.session.scalar(select(Trust).where(Trust.slug == "tkat")).settings
        result = app.test_cli_runner().invoke(args=["trust", "import", str(path)])
        assert result.exit_code == 2 and message in result.output, result.output
        db.session.rollback()
        assert db.session.scalar(select(Trust).where(Trust.slug == "tkat")).settings == before
    path.write_text(dump([{**entry, "slug": "platform"}]), encoding="utf-8")
    assert app.test_cli_runner().invoke(args=["trust", "import", str(path)]).exit_code == 2


def test_rules_page_sets_the_quiz_size_only_to_what_the_published_quiz_can_draw(app, client, login):
    """Questions per attempt is on the rules page (a trust with a small reviewed bank needs it below the default
    10 to publish at all), refused above what the published quiz's reviewed questions can fill."""
    from modules.assessments.services import drawable_questions
    from modules.training.queries import current_version

    login("admin", "tkat")
    trust = db.session.scalar(select(Trust).where(Trust.slug == "tkat"))
    pool = drawable_questions(current_version(trust.id))
    modules = len({q.section_id for q in pool})
    data = _rules_form(client)
    assert data["quiz_questions"] == str(trust.rules.quiz_questions)
    for value, message in ((str(len(pool) + 1), f"has {len(pool)} reviewed questions, so each attempt can ask at "
                                                f"most {len(pool)}"),
                           (str(modules - 1), f"so each attempt must ask at least {modules}"),
                           ("0", "Questions in each quiz attempt must be 1 or more, not 0")):
        response = client.post("/trust/rules", data={**data, "quiz_questions": value})
        html = response.get_data(as_text=True)
        assert response.status_code == 400 and message in html, (value, html[:3000])
        db.session.rollback()
        assert db.session.get(Trust, trust.id).rules.quiz_questions == 10
    response = client.post("/trust/rules", data={**data, "quiz_questions": str(modules)})
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(Trust, trust.id).rules.quiz_questions == modules
    assert f'id="now-quiz-questions">{modules} questions' in client.get("/trust/rules").get_data(as_text=True)
