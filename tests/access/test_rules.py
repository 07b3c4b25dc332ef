"""Register rules are data: parsed from trust settings, checked on content sync, matched without trust names."""

from pathlib import Path

import yaml

from modules.access.rules import DEFAULT_COLUMNS, problems, rules_from_settings
from modules.people.services import trust_roles, trust_settings

ROOT = Path(__file__).resolve().parents[2]


def _seed():
    config = yaml.safe_load((ROOT / "content" / "trusts.yaml").read_text())
    return config, {e["slug"]: e for e in config["trusts"]}


def _scopes(config, entry) -> dict[str, str]:
    return {key: role.get("scope", "trust") for key, role in trust_roles(config, entry).items()}


def test_the_five_seed_trusts_rules_are_usable():
    config, entries = _seed()
    for slug, entry in entries.items():
        assert problems(trust_settings(config, entry), _scopes(config, entry)) == [], slug


def test_seed_chains_minimums_and_columns():
    config, entries = _seed()
    rules = {slug: rules_from_settings(trust_settings(config, e)) for slug, e in entries.items()}
    assert [s.relation or s.role for s in rules["tsat"].chain] == ["line_manager", "headteacher", "dpo"]
    assert rules["tsat"].minimums == {"administrator": 2, "moderator": 2}
    assert rules["e-act"].minimums == {"administrator": 2, "moderator": 0}
    assert rules["e-act"].chain[0].requires_training_discussed
    assert rules["agora"].chain[0].central_role == "ceo" and rules["agora"].chain[0].inferred
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
    tasmat = rules_from_settings(trust_settings(config, entries["tasmat"]))
    assert tasmat.forbidding({"platform": "facebook", "platform_kind": "external", "kind": "new_account"}).clause == "7.1"
    assert tasmat.forbidding({"platform": "school_website", "platform_kind": "school_site", "kind": "join"}) is None
    tkat = rules_from_settings(trust_settings(config, entries["tkat"]))
    assert tkat.forbidding({"platform": "facebook", "platform_kind": "external", "kind": "new_account"}) is None


def test_problems_are_reported_for_bad_rules():
    settings = {
        "approval_chain": [{"relation": "line_manager", "role": "hr"}, {"role": "nobody"}, {"relation": "mentor"},
                           {"role": "head", "label": "Head"}, {"role": "head", "central_role": "hr"}],
        "forbidden_requests": [{"colour": "blue", "clause": "1.1"}, {"platform_kind": "satellite", "clause": "2"}],
        "account_platforms": [{"key": "x", "label": "X", "kind": "external"}],
        "request_form": {"title": "T", "fields": [{"key": "a", "label": "A", "type": "sound"},
                                                  {"key": "b", "label": "B", "type": "choices"},
                                                  {"key": "c", "label": "C", "type": "date", "after": "z"}]},
        "register_columns": [{"label": "Shoe size", "field": "shoe_size"}],
    }
    found = " | ".join(problems(settings, {"hr": "trust", "staff": "academy", "head": "academy"}))
    for expected in ("exactly one of 'relation' or 'role'", "no role 'nobody'", "unknown relation 'mentor'",
                     "step 4 (Head): role 'head' is held per academy, so nobody could approve the central team's",
                     "unknown condition 'colour'", "no platform has kind 'satellite'", "unknown type 'sound'",
                     "needs choices", "'after' must name", "unknown field 'shoe_size'"):
        assert expected in found
    assert "step 5" not in found  # a trust-wide central_role covers the central team
    assert problems({"approval_chain": "nonsense"}, {})


def test_seed_chains_name_an_approver_for_the_central_team():
    config, entries = _seed()
    for slug, entry in entries.items():
        scopes = _scopes(config, entry)
        for step in rules_from_settings(trust_settings(config, entry)).chain:
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
