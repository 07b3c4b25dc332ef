"""`flask content sync` and `flask policy parse`: idempotent loads, drafts for changed files, clear errors."""

import hashlib
import json
import shutil
from pathlib import Path

from sqlalchemy import func, select

from modules.core.extensions import db
from modules.people.models import Trust
from modules.policies.models import Clause, PolicyVersion, Section

ROOT = Path(__file__).resolve().parents[2]


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_sync_loaded_one_published_version_per_trust_with_source_hash(app):
    versions = db.session.scalars(select(PolicyVersion)).all()
    # The test database is built as `flask demo seed` builds one: E-ACT's invented earlier version first
    # (demo/), so its seed arrives as a draft for HR to publish.
    assert len(versions) == 6
    assert sorted((v.source_file, v.status) for v in versions if v.status != "published") == [
        ("policies/e-act.txt", "draft")]
    assert len({v.trust_id for v in versions if v.status == "published"}) == 5
    for version in versions:
        folder = ROOT if version.source_file.startswith("demo/") else ROOT / "content"
        source = (folder / version.source_file).read_bytes()
        assert version.source_sha256 == hashlib.sha256(source).hexdigest()
        assert version.source_text.encode() == source


def test_second_sync_changes_nothing(app):
    before = (_count(PolicyVersion), _count(Section), _count(Clause))
    result = app.test_cli_runner().invoke(args=["content", "sync"])
    assert result.exit_code == 0, result.output
    assert "0 new versions; 5 unchanged" in result.output  # content/ lists the five real policies only
    assert "Warning" not in result.output  # no trust makes monitoring consent a condition by default
    assert (_count(PolicyVersion), _count(Section), _count(Clause)) == before


def _content_copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(ROOT / "content", target)
    return target


def test_changed_file_becomes_a_draft_and_the_published_version_is_untouched(app, tmp_path):
    content = _content_copy(tmp_path)
    source = content / "policies" / "agora.txt"
    source.write_text(source.read_text() + "\n\n## 8. New section\n\n8.1 Staff must log out of shared devices.\n")
    app.config["CONTENT_DIR"] = str(content)
    published = db.session.scalar(select(PolicyVersion).join(Trust).where(Trust.slug == "agora"))
    sha_before, clauses_before = published.source_sha256, len(published.sections)
    result = app.test_cli_runner().invoke(args=["content", "sync"])
    assert result.exit_code == 0, result.output
    assert "agora: policies/agora.txt → version 2 (draft)" in result.output
    db.session.expire_all()
    versions = db.session.scalars(select(PolicyVersion).join(Trust).where(Trust.slug == "agora")
                                  .order_by(PolicyVersion.number)).all()
    assert [(v.number, v.status) for v in versions] == [(1, "published"), (2, "draft")]
    assert versions[0].source_sha256 == sha_before and len(versions[0].sections) == clauses_before
    assert versions[1].sections[-1].number == "8"


def test_consent_made_a_condition_is_loaded_with_a_warning(app, tmp_path):
    """Issue 12: a trust may make monitoring consent a condition, but sync says that it is then not freely
    given; the default (no) says nothing."""
    content = _content_copy(tmp_path)
    rules = content / "trusts.yaml"
    line = 'monitoring: {kind: consent, clauses: ["4.3.1", "4.3.2"]}'
    text = rules.read_text()
    assert line in text
    rules.write_text(text.replace(line, line + "\n      consent_is_condition: true"))
    app.config["CONTENT_DIR"] = str(content)
    result = app.test_cli_runner().invoke(args=["content", "sync"])
    assert result.exit_code == 0, result.output
    assert "Warning: e-act: consent_is_condition is true" in result.output
    assert "not freely given" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(Trust).where(Trust.slug == "e-act")).rules.consent_is_condition is True


def test_broken_trusts_yaml_fails_and_loads_nothing(empty_app, tmp_path):
    content = _content_copy(tmp_path)
    (content / "trusts.yaml").write_text("trusts: [ {slug: x\n")
    empty_app.config["CONTENT_DIR"] = str(content)
    result = empty_app.test_cli_runner().invoke(args=["content", "sync"])
    assert result.exit_code != 0
    assert "trusts.yaml" in result.output
    assert _count(Trust) == 0


def test_unparseable_policy_fails_the_sync_and_loads_nothing(empty_app, tmp_path):
    content = _content_copy(tmp_path)
    (content / "policies" / "tsat.txt").write_bytes(b"\x00\x01binary")
    empty_app.config["CONTENT_DIR"] = str(content)
    result = empty_app.test_cli_runner().invoke(args=["content", "sync"])
    assert result.exit_code != 0
    assert "tsat.txt" in result.output
    assert _count(PolicyVersion) == 0 and _count(Trust) == 0


def test_policy_parse_json_prints_the_structure(app):
    result = app.test_cli_runner().invoke(args=["policy", "parse", str(ROOT / "content/policies/e-act.txt"),
                                                "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [s["number"] for s in data["sections"]] == [str(n) for n in range(1, 10)]
    refs = {c["ref"]: c for s in data["sections"] for c in s["clauses"]}
    assert "consent" in refs["4.3.2"]["text"].lower()


def test_policy_parse_errors_are_clear_and_touch_nothing(empty_app, tmp_path):
    runner = empty_app.test_cli_runner()
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    binary = tmp_path / "image.bin"
    binary.write_bytes(b"\x89PNG\x00\x00\x00")
    prose = tmp_path / "prose.txt"
    prose.write_text("Just a paragraph of words with no numbered sections at all.\n")
    for path, words in ((empty, "empty"), (binary, "binary"), (prose, "")):
        result = runner.invoke(args=["policy", "parse", str(path), "--json"])
        assert result.exit_code != 0
        assert f"Cannot parse {path}" in result.output and words in result.output
    assert _count(PolicyVersion) == 0


NEW_POLICY = """# Harbourside Learning Trust Staff Social Media Policy

## 1. Purpose

1.1 This policy explains how staff behave online.

## 2. Contact with pupils

2.1 Staff must not accept friend requests from pupils.

2.2 Staff must report any contact from a pupil to their line manager.
"""


def test_a_new_trusts_first_version_is_not_published_while_its_quiz_is_not_ready(app, tmp_path):
    """A trust added to trusts.yaml with no reviewed questions is loaded as a draft, and sync says why, naming the
    uncovered clauses; staff are never assigned an unexamined policy."""
    content = _content_copy(tmp_path)
    (content / "policies" / "harbourside.txt").write_text(NEW_POLICY)
    with (content / "trusts.yaml").open("a") as handle:
        handle.write("\n  - slug: harbourside\n    name: Harbourside Learning Trust\n    policy:\n      versions:\n"
                     "        - file: policies/harbourside.txt\n")
    app.config["CONTENT_DIR"] = str(content)
    result = app.test_cli_runner().invoke(args=["content", "sync"])
    assert result.exit_code == 0, result.output
    assert "harbourside: policies/harbourside.txt → version 1 (draft)" in result.output
    assert ("Warning: harbourside: policies/harbourside.txt is loaded as version 1, a draft, and NOT published to "
            "staff: its quiz is not ready (2 must / must-not clauses neither examined by a reviewed question nor "
            "left out with a reason: 2.1, 2.2") in result.output
    db.session.expire_all()
    version = db.session.scalar(select(PolicyVersion).join(Trust).where(Trust.slug == "harbourside"))
    assert version.status == "draft" and version.published_at is None
    # The five seeds are untouched, and a second sync says the same.
    assert db.session.scalar(select(func.count()).select_from(PolicyVersion)
                             .where(PolicyVersion.status == "published")) == 5
    again = app.test_cli_runner().invoke(args=["content", "sync"])
    assert again.exit_code == 0 and "0 new versions" in again.output


def test_sync_keeps_rules_changed_in_the_browser_unless_told_to_take_the_files(app, tmp_path, now):
    """A rule changed on the rules page survives `flask content sync` (which says so, naming the rule the file
    differs on); `--rules-from-file` replaces it with trusts.yaml's, audited, and the file applies again after."""
    from datetime import timedelta

    from modules.people.models import SecurityEvent, User
    from modules.platform.services import change_rules
    from tests.conftest import demo_email

    trust = db.session.scalar(select(Trust).where(Trust.slug == "tkat"))
    default = trust.rules.pass_mark
    admin = db.session.scalar(select(User).where(User.email == demo_email("admin", "tkat")))
    assert change_rules(trust, {"pass_mark": 90}, actor=admin, now=now - timedelta(minutes=5)) == ["pass_mark"]
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["content", "sync"])
    assert result.exit_code == 0, result.output
    assert ("Warning: tkat: kept the rules changed in PolicyPass on the rules page; trusts.yaml differs on pass_mark. "
            "Run `flask content sync --rules-from-file`") in result.output
    db.session.expire_all()
    assert db.session.get(Trust, trust.id).rules.pass_mark == 90
    assert "e-act" not in result.output.split("Warning")[-1]  # trusts nobody edited are loaded from the file

    result = app.test_cli_runner().invoke(args=["content", "sync", "--rules-from-file"])
    assert result.exit_code == 0, result.output
    assert "tkat: the rules changed in PolicyPass are replaced by trusts.yaml's" in result.output
    db.session.expire_all()
    assert db.session.get(Trust, trust.id).rules.pass_mark == default
    assert db.session.scalar(select(func.count()).select_from(SecurityEvent).where(
        SecurityEvent.trust_id == trust.id, SecurityEvent.kind == "rules-loaded-from-file")) == 1

    # From then on the file is the trust's again: an edit to trusts.yaml applies without the flag.
    content = _content_copy(tmp_path)
    text = (content / "trusts.yaml").read_text()
    (content / "trusts.yaml").write_text(text.replace("      monitoring: {kind: none}\n",
                                                      "      monitoring: {kind: none}\n      pass_mark: 75\n", 1))
    app.config["CONTENT_DIR"] = str(content)
    result = app.test_cli_runner().invoke(args=["content", "sync"])
    assert result.exit_code == 0 and "kept the rules" not in result.output, result.output
    db.session.expire_all()
    assert db.session.get(Trust, trust.id).rules.pass_mark == 75
