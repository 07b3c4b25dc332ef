"""`flask quizzes draft` on a policy in a layout of the test's own, and `flask quizzes coverage`."""

import textwrap

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


def test_coverage_shows_every_obligation_bearing_section_covered(app):
    """All five trusts: each section with obligations has at least two reviewed questions; exit 0."""
    result = app.test_cli_runner().invoke(args=["quizzes", "coverage"])
    assert result.exit_code == 0, result.output
    for name in ("TKAT", "E-ACT", "TaSMAT", "TSAT", "Agora"):
        line = next(line for line in result.output.splitlines() if line.startswith(name + " ("))
        covered, total = line.split(": ")[1].split(" sections")[0].split(" of ")
        assert covered == total and int(total) > 0, line
    assert "<-- needs" not in result.output


def test_coverage_flags_a_gap_and_fails(app):
    """With a module's questions gone, coverage names it and exits 1."""
    db.session.commit()
    version = current_version(db.session.scalar(select(Trust.id).where(Trust.slug == "tkat")))
    section = next(s for s in version.sections if s.has_obligation)
    db.session.execute(delete(Question).where(Question.section_id == section.id))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["quizzes", "coverage"])
    assert result.exit_code == 1
    assert f"{section.heading[:60]}" in result.output and "<-- needs at least 2 reviewed questions" in result.output
