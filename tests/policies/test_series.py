"""Several policies (series) per trust: the migration's backfill, the register_policy rule's round trip through
trusts.yaml export and import, audience filtering, and another trust's slug being a 404."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from modules.core.extensions import db
from modules.people.models import Trust, User
from modules.people.rules import RulesError, TrustRules
from modules.platform.services import export_trust, import_trusts
from modules.policies.models import PolicySeries, PolicyVersion
from modules.policies.queries import in_audience, published_version, register_series
from modules.policies.services import add_series
from modules.training.queries import current_version
from tests.conftest import demo_email


def _trust(slug: str) -> Trust:
    return db.session.scalar(select(Trust).where(Trust.slug == slug))


def _user(local: str, slug: str) -> User:
    return db.session.scalar(select(User).where(User.email == demo_email(local, slug)))


def test_migration_backfills_one_series_per_school_trust_holding_its_versions(app):
    before = {v.id: v.trust_id for v in db.session.scalars(select(PolicyVersion))}
    assert before
    db.session.remove()
    downgrade(revision="0026")
    upgrade()
    series = list(db.session.scalars(select(PolicySeries)))
    by_trust = {s.trust_id: s for s in series}
    assert len(by_trust) == len(series)  # one per trust
    school = set(db.session.scalars(select(Trust.id).where(Trust.platform.is_(False))))
    assert set(by_trust) == school
    assert {s.slug for s in series} == {"social-media"}
    for version in db.session.scalars(select(PolicyVersion)):
        assert version.series_id == by_trust[before[version.id]].id
        # One policy per trust: its versions are named by the same numbers as before (migration 0028).
        assert version.series_number == version.number and version.label == f"version {version.number}"


def test_a_second_policys_first_version_is_its_version_1(app, now):
    """Numbers run across the trust's policies (they order versions), but each policy names its own from 1."""
    from pathlib import Path

    from modules.policies.services import create_version

    trust = _trust("tkat")
    register = published_version(trust.id)
    other = add_series(trust, title="Acceptable use policy", slug="acceptable-use", now=now)
    raw = (Path(__file__).resolve().parents[2] / "content" / "policies" / "agora.txt").read_bytes()
    version = create_version(trust, source_file="policies/aup.txt", raw=raw, now=now, series=other)
    db.session.flush()
    assert version.number > register.number
    assert version.series_number == 1 and version.label == "version 1"
    assert register.label == f"version {register.number}"


def test_register_policy_is_typed_and_round_trips_through_export_and_import(app, now):
    with_rule = TrustRules.from_mapping({"register_policy": "acceptable-use"})
    assert with_rule.register_policy == "acceptable-use" and TrustRules().register_policy is None
    try:
        TrustRules.from_mapping({"register_policy": "Not A Slug!"})
        raise AssertionError("a bad slug was accepted")
    except RulesError as exc:
        assert exc.key == "register_policy"
    trust = _trust("tkat")
    add_series(trust, title="Acceptable use policy", slug="acceptable-use", now=now)
    trust.settings = {**(trust.settings or {}), "register_policy": "acceptable-use"}
    db.session.flush()
    entry = export_trust(trust)
    assert entry["rules"]["register_policy"] == "acceptable-use"
    assert [s["slug"] for s in entry["policy"]["series"]] == ["social-media", "acceptable-use"]
    trust.settings = {k: v for k, v in trust.settings.items() if k != "register_policy"}
    db.session.flush()
    assert register_series(trust.id).slug == "social-media"
    [copy] = import_trusts({"trusts": [entry]}, source="upload.yaml", actor=None, now=now)
    assert copy.id == trust.id and copy.rules.register_policy == "acceptable-use"
    assert register_series(copy.id).slug == "acceptable-use"
    assert export_trust(copy)["rules"]["register_policy"] == "acceptable-use"


def test_the_register_series_is_the_default_and_the_rule_moves_it(app, now):
    trust = _trust("tkat")
    first = register_series(trust.id)
    assert first.slug == "social-media"
    assert current_version(trust.id) == published_version(trust.id, first) is not None
    other = add_series(trust, title="Acceptable use policy", slug="acceptable-use", now=now)
    assert register_series(trust.id) == first  # adding a policy changes nothing
    trust.settings = {**(trust.settings or {}), "register_policy": "acceptable-use"}
    db.session.flush()
    assert register_series(trust.id) == other
    assert current_version(trust.id) is None  # the register policy has no version yet


def test_audience_filters_by_role_and_academy(app, now):
    trust = _trust("tkat")
    staff, hr = _user("staff", "tkat"), _user("hr", "tkat")
    everyone = add_series(trust, title="Code of conduct", slug="code-of-conduct", now=now)
    assert in_audience(everyone, staff) and in_audience(everyone, hr)
    hr_only = add_series(trust, title="HR data policy", slug="hr-data", roles=["hr"], now=now)
    assert in_audience(hr_only, hr) and not in_audience(hr_only, staff)
    assert staff.academy is not None
    one_academy = add_series(trust, title="Site policy", slug="site", academies=[staff.academy.slug], now=now)
    assert in_audience(one_academy, staff)
    assert not in_audience(one_academy, hr) or hr.academy_id == staff.academy_id


def test_staff_pages_take_the_policy_from_the_address_and_refuse_another_trusts(app, login, client, now):
    add_series(_trust("e-act"), title="Acceptable use policy", slug="e-act-only", now=now)
    add_series(_trust("tkat"), title="HR data policy", slug="hr-data", roles=["hr"], now=now)
    db.session.commit()
    login("staff", "tkat")
    assert client.get("/?policy=e-act-only").status_code == 404
    assert client.get("/quiz?policy=e-act-only").status_code == 404
    refused = client.get("/?policy=hr-data")
    assert refused.status_code == 403
    assert "You do not need to complete the HR data policy" in refused.get_data(as_text=True)
    home = client.get("/")
    assert home.status_code == 200
    assert 'id="policies"' not in home.get_data(as_text=True)  # only one policy applies to them


def test_register_policy_is_shown_in_trust_settings_as_a_trust_setting_and_edited_on_the_rules_page(
        app, login, client, now):
    import re

    trust = _trust("tkat")
    add_series(trust, title="Acceptable use policy", slug="acceptable-use", now=now)
    db.session.commit()
    login("admin", "tkat")
    page = client.get("/trust/settings").get_data(as_text=True)
    row = re.search(r'id="setting-register_policy".*?</div>', page, re.S).group(0)
    assert "The trust&#39;s first policy" in row and "Trust setting" in row
    form = client.get("/trust/rules").get_data(as_text=True)
    assert 'value="acceptable-use"' in form and "Trust setting: the policy does not state this." in form


def test_the_rules_page_sets_register_policy_and_refuses_another_trusts(app, client, login, now):
    from tests.platform.test_platform import _rules_form

    add_series(_trust("tkat"), title="Acceptable use policy", slug="acceptable-use", now=now)
    add_series(_trust("e-act"), title="Code of conduct", slug="conduct", now=now)
    db.session.commit()
    login("admin", "tkat")
    refused = client.post("/trust/rules", data={**_rules_form(client), "register_policy": "conduct"})
    assert refused.status_code == 400 and "no policy with the short name" in refused.get_data(as_text=True)
    response = client.post("/trust/rules", data={**_rules_form(client), "register_policy": "acceptable-use"})
    assert response.status_code == 302
    db.session.rollback()
    trust = _trust("tkat")
    assert trust.settings["register_policy"] == "acceptable-use"
    assert register_series(trust.id).slug == "acceptable-use"
