"""Register rules are data: part of the typed trust rules, checked on content sync, matched without trust names."""

from pathlib import Path

import pytest
import yaml

from modules.people.rules import DEFAULT_COLUMNS, RulesError, TrustRules
from modules.people.services import trust_roles

ROOT = Path(__file__).resolve().parents[2]


def _seed():
    config = yaml.safe_load((ROOT / "content" / "trusts.yaml").read_text())
    return config, {e["slug"]: e for e in config["trusts"]}


def _scopes(config, entry) -> dict[str, str]:
    return {key: role.get("scope", "trust") for key, role in trust_roles(config, entry).items()}


def _rules(entry) -> TrustRules:
    return TrustRules.from_mapping(entry.get("rules"))


def test_the_five_seed_trusts_rules_are_usable():
    config, entries = _seed()
    for slug, entry in entries.items():
        assert _rules(entry).role_problems(_scopes(config, entry)) == [], slug


def test_seed_chains_minimums_and_columns():
    config, entries = _seed()
    rules = {slug: _rules(e) for slug, e in entries.items()}
    assert [s.relation or s.role for s in rules["tsat"].approval_chain] == ["line_manager", "headteacher", "dpo"]
    assert rules["tsat"].minimums == {"administrator": 2, "moderator": 2}
    assert rules["e-act"].minimums == {"administrator": 2, "moderator": 0}
    assert rules["e-act"].approval_chain[0].requires_training_discussed
    assert rules["agora"].approval_chain[0].central_role == "ceo" and rules["agora"].approval_chain[0].inferred
    assert [label for label, _ in rules["tkat"].columns] == [
        "Employee (Full name)", "Job title/Dept", "Social Media Account(s)"]
    assert rules["agora"].columns == DEFAULT_COLUMNS
    assert rules["e-act"].credentials_note.clauses == ("4.4.2",)
    assert rules["tsat"].credentials_note.clauses == ("A.3.2",)
    form = rules["tsat"].request_form
    keys = {f.key for f in form.fields}
    assert {"aims", "audience", "contributors", "administrators", "moderators", "go_live_on", "closure_on",
            "consent", "vetting"} <= keys


def test_forbidden_rule_matching():
    config, entries = _seed()
    tasmat = _rules(entries["tasmat"])
    assert tasmat.forbidding({"platform": "facebook", "platform_kind": "external", "kind": "new_account"}).clause == "7.1"
    assert tasmat.forbidding({"platform": "school_website", "platform_kind": "school_site", "kind": "join"}) is None
    tkat = _rules(entries["tkat"])
    assert tkat.forbidding({"platform": "facebook", "platform_kind": "external", "kind": "new_account"}) is None


@pytest.mark.parametrize(("rules", "key", "message"), [
    ({"approval_chain": [{"relation": "line_manager", "role": "hr"}]}, "approval_chain[0].role",
     "exactly one of 'relation' or 'role'"),
    ({"approval_chain": [{"relation": "mentor"}]}, "approval_chain[0].relation", "'line_manager'"),
    ({"approval_chain": "nonsense"}, "approval_chain", "must be a list"),
    ({"forbidden_requests": [{"colour": "blue", "clause": "1.1"}]}, "forbidden_requests[0].colour", "unknown rule"),
    ({"forbidden_requests": [{"platform_kind": "satellite", "clause": "2"}]}, "forbidden_requests[0].platform_kind",
     "no platform has kind 'satellite'"),
    ({"request_form": {"fields": [{"key": "a", "label": "A", "type": "sound"}]}}, "request_form.fields[0].type",
     "'choices'"),
    ({"request_form": {"fields": [{"key": "b", "label": "B", "type": "choices"}]}}, "request_form.fields[0].choices",
     "needs choices"),
    ({"request_form": {"fields": [{"key": "c", "label": "C", "type": "date", "after": "z"}]}},
     "request_form.fields[0].after", "must name an earlier date field"),
    ({"register_columns": [{"label": "Shoe size", "field": "shoe_size"}]}, "register_columns[0].field", "'handle'"),
    ({"minimum_administrators": -1}, "minimum_administrators", "0 or more"),
])
def test_bad_register_rules_name_their_key(rules, key, message):
    with pytest.raises(RulesError) as caught:
        TrustRules.from_mapping(rules)
    assert caught.value.key == key and message in caught.value.message


def test_chain_steps_no_role_can_fill():
    rules = TrustRules.from_mapping({"approval_chain": [
        {"role": "nobody"}, {"role": "head", "label": "Head"}, {"role": "head", "central_role": "hr"}]})
    found = dict(rules.role_problems({"hr": "trust", "staff": "academy", "head": "academy"}))
    assert found["approval_chain[0].role"] == "the trust has no role 'nobody'"
    assert "held per academy, so nobody could approve the central team's" in found["approval_chain[1].central_role"]
    assert not any(key.startswith("approval_chain[2]") for key in found)  # a trust-wide central_role covers it


def test_seed_chains_name_an_approver_for_the_central_team():
    config, entries = _seed()
    for slug, entry in entries.items():
        scopes = _scopes(config, entry)
        for step in _rules(entry).approval_chain:
            if step.role:
                assert scopes[step.central_role or step.role] == "trust", (slug, step.label)


def test_content_sync_refuses_a_chain_the_central_team_cannot_get_through(app, tmp_path):
    import shutil

    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    text = (content / "trusts.yaml").read_text()
    assert text.count("central_role: ceo, label: \"Headteacher (CEO") == 2  # TaSMAT and Agora
    (content / "trusts.yaml").write_text(text.replace("central_role: ceo, ", "", 1))
    app.config["CONTENT_DIR"] = str(content)
    result = app.test_cli_runner().invoke(args=["content", "sync"])
    assert result.exit_code != 0
    assert "tasmat" in result.output and "central_role" in result.output


def test_content_sync_refuses_unusable_register_rules(app, tmp_path):
    import shutil

    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    text = (content / "trusts.yaml").read_text().replace(
        '- {role: comms_lead, label: "Senior Responsible Officer (SRO)"', '- {role: sro_typo, label: "SRO"', 1)
    (content / "trusts.yaml").write_text(text)
    app.config["CONTENT_DIR"] = str(content)
    result = app.test_cli_runner().invoke(args=["content", "sync"])
    assert result.exit_code != 0
    assert "tkat" in result.output and "sro_typo" in result.output
