"""`flask quizzes draft` on a policy in a layout of the test's own, and `flask quizzes coverage`."""

import textwrap
from pathlib import Path

import yaml
from sqlalchemy import delete, select

from modules.assessments.bank import VersionText, match_versions, parse_bank
from modules.assessments.models import Question
from modules.core.extensions import db
from modules.people.models import Trust
from modules.policies.parser import parse_file
from modules.training.queries import current_version

#: A policy laid out unlike any seed: Markdown headings, "Section N:" style numbers, lettered items,
#: wrapped lines and curly quotes.
ODD_LAYOUT = textwrap.dedent("""\
    # Harbourside Learning Trust – Staff Online Conduct Policy

    Approved: 4 March 2025

    ## 1. Purpose

    1.1 This policy explains how colleagues behave online.

    ## 2. Contact with pupils

    2.1 Staff must not accept friend requests from pupils or
    former pupils on any personal account.

    2.2 If a pupil sends a direct message, colleagues must report it
    to the Designated Safeguarding Lead the same day.

    ## 3. Photographs

    3.1 Staff must only share photographs of pupils where the school holds written
    consent from a parent.

    3.2 Images must not identify a child by their full name.

    ## 4. Speaking for the trust

    4.1 Only the trust’s communications team may respond to a journalist or press enquiry.

    4.2 Employees must not use the trust logo on personal profiles.

    ## 5. Accounts

    5.1 If your account is hacked, you must change your password and tell IT at once.
    """)


def test_draft_for_a_policy_in_another_layout_is_a_valid_unreviewed_bank(app, tmp_path):
    """The draft validates against the schema and the policy's own clauses; nothing in it is reviewed."""
    source = tmp_path / "harbourside.txt"
    source.write_text(ODD_LAYOUT, encoding="utf-8")
    out = tmp_path / "draft.yaml"
    result = app.test_cli_runner().invoke(args=["quizzes", "draft", str(source), "--output", str(out)])
    assert result.exit_code == 0, result.output
    bank = parse_bank(out.read_text(encoding="utf-8"), str(out), expected_trust="harbourside")
    policy = parse_file(source)
    version = VersionText(1, "version 1", frozenset(s.number for s in policy.sections),
                          {c.ref: c.text for s in policy.sections for c in s.clauses})
    applies = match_versions(bank, [version])
    assert set(applies) == {q.id for q in bank.questions}
    assert all(not q.reviewed for q in bank.questions)
    ids = {q.id for q in bank.questions}
    obligations = {c.ref for s in policy.sections for c in s.clauses if c.modality in ("must", "must_not")}
    assert {f"draft-allowed-{ref.replace('.', '-')}" for ref in obligations} <= ids
    assert {"draft-pupil-friend-request", "draft-pupil-photos-consent", "draft-press-enquiry",
            "draft-logo-on-profile", "draft-hacked-account"} <= ids
    allowed = next(q for q in bank.questions if q.id == "draft-allowed-2-1")
    assert allowed.stem == ("Is this allowed under clause 2.1? A member of staff decides to accept friend requests "
                            "from pupils or former pupils on any personal account.")
    assert allowed.correct == ("b",)
    photos = next(q for q in bank.questions if q.id == "draft-pupil-photos-consent")
    assert photos.clauses == ("3.1",)


def test_draft_for_a_trust_writes_under_quizzes_drafts(app, tmp_path):
    """Given a trust slug, the draft is built from its published version and written to the drafts folder."""
    app.config["QUIZZES_DIR"] = str(tmp_path)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["quizzes", "draft", "tsat"])
    assert result.exit_code == 0, result.output
    data = yaml.safe_load((tmp_path / "drafts" / "tsat.yaml").read_text(encoding="utf-8"))
    assert data["trust"] == "tsat" and len(data["questions"]) >= 20
    assert not any(q["reviewed"] for q in data["questions"])


def test_draft_of_something_unknown_fails(app):
    """Neither a file nor a trust: a clear message and a non-zero exit."""
    result = app.test_cli_runner().invoke(args=["quizzes", "draft", "no-such-thing"])
    assert result.exit_code == 1
    assert "neither a file nor a trust" in result.output


#: The must / must-not clauses each bank deliberately does not examine. Changing a bank's not_examined list
#: (or a parser change that alters which clauses are obligations) must change this on purpose.
EXCLUDED = {
    "tkat": {"2.4"},
    "e-act": {"2.1.3"},
    "tasmat": set(),
    "tsat": set(),
    "agora": set(),
}
NAMES = {"tkat": "TKAT", "e-act": "E-ACT", "tasmat": "TaSMAT", "tsat": "TSAT", "agora": "Agora"}


def _coverage_blocks(output: str) -> dict[str, list[str]]:
    """The coverage output split per trust: the trust's name → its lines (summary first)."""
    blocks: dict[str, list[str]] = {}
    current = None
    for line in output.splitlines():
        if not line.startswith(" "):
            current = line.split(" (")[0]
            blocks[current] = []
        if current is not None:
            blocks[current].append(line)
    return blocks


def test_coverage_lists_every_must_clause_as_covered_or_excluded(app):
    """All five trusts: every must / must-not clause is cited by a reviewed question or excluded with a reason."""
    result = app.test_cli_runner().invoke(args=["quizzes", "coverage"])
    assert result.exit_code == 0, result.output
    assert "NOT COVERED" not in result.output and "<--" not in result.output
    blocks = _coverage_blocks(result.output)
    for slug, name in NAMES.items():
        lines = blocks[name]
        version = current_version(db.session.scalar(select(Trust.id).where(Trust.slug == slug)))
        obligations = [c.ref for s in version.sections for c in s.clauses if c.modality in ("must", "must_not")]
        assert f"{len(set(obligations))} must / must-not clauses" in lines[0], lines[0]
        status = [line for line in lines[1:] if "covered by" in line or "not examined:" in line]
        assert len(status) == len(set(obligations)), name
        listed = {ref: next(line for line in status if line.startswith(f"  {ref} ")) for ref in obligations}
        excluded = {ref for ref, line in listed.items() if "not examined:" in line}
        assert excluded == EXCLUDED[slug], f"{name}: the exclusion list changed: {sorted(excluded)}"
        assert all(line.split("not examined:")[1].strip() for ref, line in listed.items() if ref in excluded)


def test_coverage_flags_an_uncovered_clause_and_fails(app):
    """With the questions citing one clause gone, coverage names the clause and exits 1."""
    db.session.commit()
    version = current_version(db.session.scalar(select(Trust.id).where(Trust.slug == "tkat")))
    questions = db.session.scalars(select(Question).where(Question.version_id == version.id)).all()
    gone = [q.id for q in questions if "3.3.1" in q.clause_refs]
    assert gone
    db.session.execute(delete(Question).where(Question.id.in_(gone)))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["quizzes", "coverage"])
    assert result.exit_code == 1
    line = next(line for line in _coverage_blocks(result.output)["TKAT"] if line.strip().startswith("3.3.1 "))
    assert "must not" in line and "NOT COVERED" in line


def test_coverage_flags_a_module_short_of_questions_and_fails(app):
    """With a module's questions gone, coverage names the module too."""
    db.session.commit()
    version = current_version(db.session.scalar(select(Trust.id).where(Trust.slug == "tkat")))
    section = next(s for s in version.sections if s.has_obligation)
    db.session.execute(delete(Question).where(Question.section_id == section.id))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["quizzes", "coverage"])
    assert result.exit_code == 1
    assert f"{section.heading[:60]}" in result.output and "<-- needs at least 2 reviewed questions" in result.output


def test_coverage_flags_a_stale_exclusion(app, tmp_path):
    """An exclusion naming a clause that is not a must / must-not clause of the version is reported and fails."""
    source = Path(app.config["QUIZZES_DIR"])
    for slug in NAMES:
        data = yaml.safe_load((source / f"{slug}.yaml").read_text(encoding="utf-8"))
        if slug == "agora":  # 1.1 is an introduction, not an obligation
            data.setdefault("not_examined", []).append({"clause": "1.1", "reason": "Test: not an obligation."})
        (tmp_path / f"{slug}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    app.config["QUIZZES_DIR"] = str(tmp_path)
    result = app.test_cli_runner().invoke(args=["quizzes", "coverage"])
    assert result.exit_code == 1
    line = next(line for line in _coverage_blocks(result.output)["Agora"] if line.strip().startswith("1.1 "))
    assert "listed under not_examined but not a must / must-not clause" in line


def test_coverage_reads_exclusions_made_in_the_browser_from_the_database(app, now):
    """A clause left out on the version's quiz page (a ClauseExclusion row, the bank file not listing it) is
    reported as not examined with its reason, as the publishing gate counts it; gone, it is NOT COVERED."""
    from modules.assessments.models import BrowserBank, ClauseExclusion

    version = current_version(db.session.scalar(select(Trust.id).where(Trust.slug == "tkat")))
    citing = [q.id for q in db.session.scalars(select(Question).where(Question.version_id == version.id))
              if "3.3.1" in q.clause_refs]
    db.session.execute(delete(Question).where(Question.id.in_(citing)))
    db.session.add(BrowserBank(version_id=version.id, started_at=now))
    row = ClauseExclusion(version_id=version.id, clause_ref="3.3.1", reason="Examined in the induction session.",
                          created_at=now)
    db.session.add(row)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["quizzes", "coverage"])
    line = next(line for line in _coverage_blocks(result.output)["TKAT"] if line.strip().startswith("3.3.1 "))
    assert "not examined: Examined in the induction session." in line, result.output
    db.session.delete(row)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["quizzes", "coverage"])
    line = next(line for line in _coverage_blocks(result.output)["TKAT"] if line.strip().startswith("3.3.1 "))
    assert "NOT COVERED" in line and result.exit_code == 1
