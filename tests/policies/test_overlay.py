"""Structure corrections as an overlay: each kind changes how the text is read, never the text itself."""

import pytest

from modules.policies import overlay
from modules.policies.parser import parse_policy

TEXT = """Ashby Trust Staff Social Media Policy
Contents
Introduction
Personal use
1 Introduction
1.1 This policy applies to all staff.
Ashby Trust - confidential
1.2 Staff must read it.
2 Personal use
2.1 Staff must not contact pupils online.
The school may monitor its own network.
2.2 Staff should keep accounts private.
"""


def _read(corrections):
    lines = TEXT.splitlines()
    entries = [overlay.entry(lines, *c) for c in corrections]
    corrected, stale = overlay.apply(TEXT, entries)
    assert stale == []
    return parse_policy(corrected)


def _line(text: str) -> int:
    return next(i for i, line in enumerate(TEXT.splitlines(), start=1) if line.startswith(text))


def test_each_correction_changes_the_structure_as_asked():
    """Contents list, ignored header, a split heading, a split clause and a merged number, together."""
    before = parse_policy(TEXT)
    assert [s.number for s in before.sections] == ["1", "2"]
    assert "Ashby Trust - confidential" in before.clause("1.1").text
    assert before.clause("2.2") is not None
    policy = _read([
        ("contents", _line("Contents"), _line("Personal use")),
        ("ignore", _line("Ashby Trust - confidential")),
        ("split", _line("The school may monitor"), None, "2.1.1"),
        ("merge", _line("2.2 Staff should")),
    ])
    assert [(c.ref, c.parent) for s in policy.sections for c in s.clauses] == [
        ("1.1", "1"), ("1.2", "1"), ("2.1", "2"), ("2.1.1", "2.1")]
    assert policy.clause("2.1.1").text == "The school may monitor its own network.\n\nStaff should keep accounts private."
    everything = " ".join(c.text for s in policy.sections for c in s.clauses) + policy.title
    assert "confidential" not in everything and "Contents" not in everything


def test_a_heading_correction_opens_the_next_section():
    """A line marked as a heading opens a section even when the clauses after it keep earlier numbers."""
    text = "P\n\n1 Scope\n\n1.1 All staff.\n\nMonitoring.\n\n1.2 The trust may monitor its network.\n"
    line = text.splitlines().index("Monitoring.") + 1
    corrected, _ = overlay.apply(text, [overlay.entry(text.splitlines(), "heading", line)])
    policy = parse_policy(corrected)
    assert [(s.number, s.title, [c.ref for c in s.clauses]) for s in policy.sections] == [
        ("1", "Scope", ["1.1"]), ("2", "Monitoring", ["1.2"])]


def test_a_title_over_two_lines_is_read_as_one_title():
    """A PDF's large title wraps onto two lines and the parser keeps only the second; marking both lines as the
    title names the policy in full, and the sections and clauses stay as they were."""
    text = ("Weald Valley Schools Trust Staff\nSocial Media Policy\nApproved: 12 March 2026\n1 Introduction\n"
            "1.1 This policy applies to all staff.\n2 Personal use\n2.1 Staff must not contact pupils online.\n")
    before = parse_policy(text)
    assert before.title == "Social Media Policy"
    corrected, stale = overlay.apply(text, [overlay.entry(text.splitlines(), "title", 1, 2)])
    policy = parse_policy(corrected)
    assert stale == [] and policy.title == "Weald Valley Schools Trust Staff Social Media Policy"
    assert [(s.number, s.title, [c.ref for c in s.clauses]) for s in policy.sections] == [
        (s.number, s.title, [c.ref for c in s.clauses]) for s in before.sections]
    # One line is a title of one line; a title may not run past four lines.
    assert parse_policy(overlay.apply(text, [overlay.entry(text.splitlines(), "title", 1)])[0]).title == (
        "Weald Valley Schools Trust Staff")
    with pytest.raises(overlay.OverlayError) as refused:
        overlay.entry(text.splitlines(), "title", 1, 6)
    assert refused.value.field == "to"


def test_a_correction_whose_line_changed_is_left_out_and_reported():
    """An overlay entry that no longer matches its line is not applied (a different file was read)."""
    entry = overlay.entry(TEXT.splitlines(), "ignore", _line("Ashby Trust - confidential"))
    corrected, stale = overlay.apply(TEXT.replace("confidential", "internal"), [entry])
    assert stale == [entry] and "Ashby Trust - internal" in corrected


@pytest.mark.parametrize(
    ("op", "line", "to", "ref", "field"),
    [("nonsense", 1, None, "", "op"), ("ignore", 0, None, "", "line"), ("ignore", 999, None, "", "line"),
     ("contents", 3, 1, "", "to"), ("split", 3, None, "four", "ref"), ("merge", 1, None, "", "line")],
)
def test_bad_corrections_say_what_to_fix(op, line, to, ref, field):
    """Unknown kinds, lines out of range, a contents list ending before it starts, a split without a number,
    and merging a line with no number are refused on the field to fix."""
    with pytest.raises(overlay.OverlayError) as refused:
        overlay.entry(TEXT.splitlines(), op, line, to, ref)
    assert refused.value.field == field
