"""Trust rules are one typed, validated object: defaults in one place, bad rules refused by `flask content sync`
with the file, the trust and the key."""

import dataclasses
import shutil
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from modules.core.extensions import db
from modules.people.models import Trust
from modules.people.rules import RulesError, TrustRules
from modules.policies.models import PolicyVersion

ROOT = Path(__file__).resolve().parents[2]


def test_a_trust_that_gives_no_rules_gets_every_default():
    rules = TrustRules.from_mapping({})
    assert (rules.pass_mark, rules.quiz_questions, rules.certificate_validity_months) == (80, 10, 12)
    assert rules.supersede_grace_days == rules.new_version_due_days == 30
    assert rules.monitoring.kind == "none" and rules.approval_chain == ()
    assert rules.refresh.mode == "rolling" and rules.refresh.months == 12
    assert rules.platform("facebook").kind == "external"


def test_every_rule_is_typed_and_documented():
    """Each field has a type and a `#:` comment in modules/people/rules.py (the one place to look a rule up)."""
    source = (ROOT / "modules" / "people" / "rules.py").read_text()
    body = source[source.index("class TrustRules"):source.index("def __post_init__", source.index("class TrustRules"))]
    for item in dataclasses.fields(TrustRules):
        assert item.type is not None
        line = next(i for i, text in enumerate(body.splitlines()) if text.strip().startswith(f"{item.name}:"))
        previous = body.splitlines()[line - 1].strip()
        assert previous.startswith("#:") or body.splitlines()[line - 2].strip().startswith("#:"), item.name


def test_seed_trusts_read_typed_rules(app):
    trusts = {t.slug: t for t in db.session.scalars(select(Trust))}
    assert trusts["e-act"].rules.monitoring.kind == "consent"
    assert trusts["e-act"].rules.monitoring.clauses == ("4.3.1", "4.3.2")
    assert trusts["tsat"].rules.minimum_moderators == 2
    assert trusts["tsat"].rules.source("minimum_administrators") == ("A.5.4",)
    assert trusts["tkat"].rules.source("pass_mark") == ()  # a trust setting: the policy does not state it
    assert trusts["tkat"].rules.pass_mark == 80
    # A change to the stored mapping is seen at once (no stale cache).
    trusts["tkat"].settings = {**trusts["tkat"].settings, "pass_mark": 70}
    assert trusts["tkat"].rules.pass_mark == 70


def test_the_yaml_repeats_no_default():
    """Defaults live in modules/people/rules.py only; trusts.yaml has no default_rules any more."""
    config = yaml.safe_load((ROOT / "content" / "trusts.yaml").read_text())
    assert "default_rules" not in config


def _sync_with(app, tmp_path, old: str, new: str, count: int = 1):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    text = (content / "trusts.yaml").read_text()
    assert old in text
    (content / "trusts.yaml").write_text(text.replace(old, new, count))
    app.config["CONTENT_DIR"] = str(content)
    return app.test_cli_runner().invoke(args=["content", "sync"])


@pytest.mark.parametrize(("old", "new", "trust", "key"), [
    # a typo'd rule key
    ("      minimum_administrators: 2\n      minimum_sources:",
     "      minimum_adminstrators: 2\n      minimum_sources:", "e-act",
     "rules.minimum_adminstrators: unknown rule"),
    # a wrong type
    ("      monitoring: {kind: notice, clauses: [\"8.1\"]}", "      monitoring: {kind: notice, clauses: [\"8.1\"]}\n"
     "      pass_mark: eighty", "tasmat", "rules.pass_mark: must be a whole number"),
    # a monitoring clause the policy does not have
    ('monitoring: {kind: notice, clauses: ["6.1"]}', 'monitoring: {kind: notice, clauses: ["6.9"]}', "agora",
     "rules.monitoring.clauses[0]: the policy (policies/agora.txt) has no clause '6.9'"),
    # a minimum's clause the policy does not have
    ('moderator: {clause: "Appendix 2"', 'moderator: {clause: "Appendix 9"', "tsat",
     "rules.minimum_sources.moderator.clause: the policy (policies/tsat.txt) has no clause 'Appendix 9'"),
    # a chain step no role can fill
    ('{role: dpo, label: "Deputy DPO"', '{role: deputy_dpo, label: "Deputy DPO"', "tsat",
     "rules.approval_chain[2].role: the trust has no role 'deputy_dpo'"),
])
def test_content_sync_refuses_a_bad_rule_naming_file_trust_and_key(empty_app, tmp_path, old, new, trust, key):
    result = _sync_with(empty_app, tmp_path, old, new)
    assert result.exit_code != 0
    assert str(tmp_path / "content" / "trusts.yaml") in result.output
    assert f"trust {trust}, {key}" in result.output
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(PolicyVersion)) == 0  # nothing was loaded


def test_content_sync_refuses_the_old_default_rules_block(empty_app, tmp_path):
    result = _sync_with(empty_app, tmp_path, "default_roles:", "default_rules:\n  pass_mark: 80\n\ndefault_roles:")
    assert result.exit_code != 0
    assert "trusts.yaml: 'default_rules' is no longer read" in result.output


def test_rules_error_names_a_nested_key():
    with pytest.raises(RulesError) as caught:
        TrustRules.from_mapping({"refresh": {"mode": "window", "month": 9, "dya": 1}})
    assert caught.value.key == "refresh.dya"
