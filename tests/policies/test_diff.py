"""Clause-level comparison (modules/policies/diff.py): renumbering, inserted sections, rewording, removal."""

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from modules.policies import diff
from modules.policies.parser import parse_file, parse_policy

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class C:
    ref: str
    text: str


@dataclass
class S:
    number: str
    title: str
    clauses: list[C] = field(default_factory=list)


@dataclass
class Q:
    key: str
    clause_refs: list[str]


BASE = [
    S("1", "Purpose", [C("1.1", "This policy sets out how staff use social media."),
                       C("1.2", "It applies to all staff, volunteers and governors.")]),
    S("2", "Personal accounts", [C("2.1", "Staff must not accept pupils as friends or followers."),
                                 C("2.2", "Staff should set their profiles to private."),
                                 C("2.3", "Staff must not post images of pupils on personal accounts.")]),
    S("3", "Official accounts", [C("3.1", "Only authorised staff may post on the school's accounts."),
                                 C("3.2", "Each account must have two administrators.")]),
    S("4", "Breaches", [C("4.1", "A breach may lead to disciplinary action.")]),
]


def renumber(sections, mapping):
    """Sections with their numbers (and their clauses' first part) replaced per mapping."""
    out = []
    for s in sections:
        if s.number not in mapping:
            out.append(s)
            continue
        number = mapping[s.number]
        out.append(S(number, s.title, [C(number + c.ref[len(s.number):], c.text) for c in s.clauses]))
    return out


def test_identical_versions_are_all_unchanged():
    result = diff.compare(BASE, BASE)
    assert result.counts == {"added": 0, "removed": 0, "reworded": 0, "renumbered": 0, "unchanged": 8}
    assert not result.has_changes and result.changed_sections == []
    assert [s.kind for s in result.sections] == ["unchanged"] * 4


def test_a_renumbered_clause_is_renumbered_only_not_removed_and_added():
    new = [BASE[0], S("2", "Personal accounts", [C("2.1", "Staff should set their profiles to private."),
                                                 C("2.2", "Staff must not accept pupils as friends or followers."),
                                                 C("2.3", BASE[1].clauses[2].text)]), *BASE[2:]]
    result = diff.compare(BASE, new)
    assert result.counts["added"] == result.counts["removed"] == result.counts["reworded"] == 0
    moved = result.clauses(diff.RENUMBERED)
    assert {(c.old_ref, c.new_ref) for c in moved} == {("2.1", "2.2"), ("2.2", "2.1")}
    assert not result.has_changes
    assert result.sections[1].kind == "renumbered" and not result.sections[1].changed
    assert result.ref_map["2.1"] == "2.2"


def test_an_inserted_section_renumbers_everything_after_it_and_is_one_addition():
    inserted = S("3", "Messaging apps", [C("3", "This section covers messaging apps."),
                                         C("3.1", "Staff must not use WhatsApp for school business.")])
    new = [*BASE[:2], inserted, *renumber(BASE[2:], {"3": "4", "4": "5"})]
    result = diff.compare(BASE, new)
    added_sections = [s for s in result.sections if s.kind == "added"]
    removed_sections = [s for s in result.sections if s.kind == "removed"]
    assert (len(added_sections), len(removed_sections)) == (1, 0)
    assert added_sections[0].new_number == "3"
    assert result.counts["removed"] == 0 and result.counts["reworded"] == 0
    assert result.counts["added"] == 2  # the two clauses of the inserted section
    assert [(c.old_ref, c.new_ref) for c in result.clauses(diff.RENUMBERED)] == [
        ("3.1", "4.1"), ("3.2", "4.2"), ("4.1", "5.1")]
    assert [s.number for s in result.sections] == ["1", "2", "3", "4", "5"]
    assert [(s.old_number, s.new_number, s.kind) for s in result.sections[3:]] == [
        ("3", "4", "renumbered"), ("4", "5", "renumbered")]
    assert result.changed_sections == ["3"]
    assert result.kept_sections == {"1": "1", "2": "2", "4": "3", "5": "4"}


@pytest.mark.parametrize("slug", ["tkat", "e-act", "tasmat", "tsat", "agora"])
def test_an_inserted_section_in_a_real_policy(slug):
    """Each seed with a new section 2 and every numbered section after it renumbered: 1 added, 0 removed."""
    old = parse_file(ROOT / f"content/policies/{slug}.txt").sections
    numbered = [s for s in old if s.number.isdigit()]
    at = old.index(numbered[1])
    shifted = {s.number: str(int(s.number) + 1) for s in old[at:] if s.number.isdigit()}
    inserted = S(numbered[1].number, "Messaging apps", [
        C(f"{numbered[1].number}.1", "Staff must not use WhatsApp for school business."),
        C(f"{numbered[1].number}.2", "Staff must use the school's own messaging system with parents.")])
    new = [*old[:at], inserted, *renumber(old[at:], shifted)]
    result = diff.compare(old, new)
    assert [s.kind for s in result.sections].count("added") == 1
    assert [s.kind for s in result.sections].count("removed") == 0
    assert (result.counts["added"], result.counts["removed"], result.counts["reworded"]) == (2, 0, 0)
    moved = sum(len(s.clauses) for s in old[at:] if s.number.isdigit())
    assert result.counts["renumbered"] == moved > 5
    assert result.changed_sections == [numbered[1].number]


def test_pure_rewording_gives_a_word_level_difference():
    new = [BASE[0], S("2", "Personal accounts", [BASE[1].clauses[0],
                                                 C("2.2", "Staff must set their profiles to private."),
                                                 BASE[1].clauses[2]]), *BASE[2:]]
    result = diff.compare(BASE, new)
    assert result.counts == {"added": 0, "removed": 0, "reworded": 1, "renumbered": 0, "unchanged": 7}
    change = result.clauses(diff.REWORDED)[0]
    assert (change.old_ref, change.new_ref) == ("2.2", "2.2")
    assert [(w.op, w.text) for w in change.words if w.op != "equal"] == [("delete", "should"), ("insert", "must")]
    assert "".join(w.text for w in change.words if w.op != "delete") == change.new_text
    assert "".join(w.text for w in change.words if w.op != "insert") == change.old_text
    assert result.changed_sections == ["2"] and result.changed_new_refs == {"2.2"}


def test_whitespace_and_line_breaks_alone_are_not_a_change():
    new = [S("1", "Purpose", [C("1.1", "This policy sets out how\nstaff use  social media."), BASE[0].clauses[1]]),
           *BASE[1:]]
    assert not diff.compare(BASE, new).has_changes


def test_a_removed_clause_is_removed_and_the_rest_renumbered():
    new = [BASE[0], S("2", "Personal accounts", [C("2.1", BASE[1].clauses[0].text),
                                                 C("2.2", BASE[1].clauses[2].text)]), *BASE[2:]]
    result = diff.compare(BASE, new)
    assert result.counts == {"added": 0, "removed": 1, "reworded": 0, "renumbered": 1, "unchanged": 6}
    removed = result.clauses(diff.REMOVED)[0]
    assert removed.old_ref == "2.2" and removed.new_ref is None and removed.ref == "2.2"
    section = result.sections[1]
    assert [c.kind for c in section.clauses] == ["unchanged", "removed", "renumbered"]
    assert section.changed and result.changed_sections == ["2"]


def test_a_removed_section_is_listed_in_place():
    result = diff.compare(BASE, [BASE[0], *renumber(BASE[2:], {"3": "2", "4": "3"})])
    assert [(s.old_number, s.new_number, s.kind) for s in result.sections] == [
        ("1", "1", "unchanged"), ("2", None, "removed"), ("3", "2", "renumbered"), ("4", "3", "renumbered")]
    assert result.counts["removed"] == 3 and result.counts["added"] == 0
    assert result.changed_sections == []


def test_a_rewritten_clause_with_the_same_ref_is_reworded_but_an_unrelated_one_is_added_and_removed():
    reworded = [BASE[0], BASE[1], S("3", "Official accounts", [
        C("3.1", "Only staff authorised by the headteacher may post on the school's accounts."),
        BASE[2].clauses[1]]), BASE[3]]
    result = diff.compare(BASE, reworded)
    assert result.counts["reworded"] == 1 and result.counts["added"] == result.counts["removed"] == 0
    replaced = [BASE[0], BASE[1], S("3", "Official accounts", [
        C("3.1", "Livestreaming lessons needs a risk assessment first."), BASE[2].clauses[1]]), BASE[3]]
    result = diff.compare(BASE, replaced)
    assert (result.counts["reworded"], result.counts["added"], result.counts["removed"]) == (0, 1, 1)


def test_every_seed_compared_with_itself_is_unchanged():
    for path in sorted((ROOT / "content/policies").glob("*.txt")):
        parsed = parse_file(path)
        result = diff.compare(parsed.sections, parsed.sections)
        assert not result.has_changes and result.counts["renumbered"] == 0, path.name


def test_quiz_bank_check_lists_questions_citing_removed_or_reworded_clauses():
    new = [BASE[0], S("2", "Personal accounts", [C("2.1", "Staff must set their profiles to private."),
                                                 C("2.2", BASE[1].clauses[2].text)]),
           BASE[2], S("4", "Breaches", [C("4.1", "A breach may lead to disciplinary action."),
                                        C("4.2", "Staff must report a breach they see.")])]
    result = diff.compare(BASE, new)
    # 2.1 (friends) removed; 2.2 reworded and renumbered to 2.1; 2.3 renumbered to 2.2; 4.2 added.
    reviews = {r.key: r for r in diff.review_questions(result, [
        Q("friends", ["2.1"]), Q("private", ["2.2"]), Q("images", ["2.3"]), Q("admins", ["3.2"]),
        Q("mixed", ["1.1", "2.3"])])}
    assert {k: r.outcome for k, r in reviews.items()} == {
        "friends": "review", "private": "review", "images": "renumbered", "admins": "carry", "mixed": "renumbered"}
    assert reviews["friends"].removed == ("2.1",) and reviews["private"].reworded == ("2.2",)
    assert reviews["images"].renumbered == (("2.3", "2.2"),)
    cited = diff.questions_citing_changes(result, [Q("new-private", ["2.1"]), Q("report", ["4.2"]),
                                                   Q("images", ["2.2"]), Q("admins", ["3.2"])])
    assert [q.key for q in cited] == ["new-private", "report"]


def test_an_inserted_module_is_the_only_one_without_credit_and_the_only_one_quizzed():
    """What tracking.versions carries over (kept_sections) and assessments asks about (questions_citing_changes)
    when a module is inserted and the ones after it are renumbered."""
    inserted = S("3", "Messaging apps", [C("3.1", "Staff must not use WhatsApp for school business.")])
    new = [*BASE[:2], inserted, *renumber(BASE[2:], {"3": "4", "4": "5"})]
    result = diff.compare(BASE, new)
    assert result.kept_sections == {"1": "1", "2": "2", "4": "3", "5": "4"}
    questions = [Q("whatsapp", ["3.1"]), Q("admins", ["4.2"]), Q("friends", ["2.1"])]
    assert [q.key for q in diff.questions_citing_changes(result, questions)] == ["whatsapp"]


@pytest.mark.parametrize("old,new,expected", [
    ("a b c", "a b c", [("equal", "a b c")]),
    ("a b c", "a x c", [("equal", "a "), ("delete", "b"), ("insert", "x"), ("equal", " c")]),
    ("pupils;", "pupils.", [("equal", "pupils"), ("delete", ";"), ("insert", ".")]),
])
def test_word_diff(old, new, expected):
    assert [(w.op, w.text) for w in diff.word_diff(old, new)] == expected


def _text(sections: list[tuple[str, str, list[str]]]) -> str:
    out = ["Staff Social Media Policy", ""]
    for number, title, clauses in sections:
        out += [f"{number}. {title}", ""]
        for i, text in enumerate(clauses, start=1):
            out += [f"{number}.{i} {text}", ""]
    return "\n".join(out)


def test_parsed_text_with_an_inserted_section():
    old = _text([("1", "Purpose", ["This policy covers all staff.", "It applies at all times."]),
                 ("2", "Personal use", ["Staff must not befriend pupils online.", "Staff should keep accounts private."]),
                 ("3", "Breaches", ["A breach may lead to disciplinary action."])])
    new = _text([("1", "Purpose", ["This policy covers all staff.", "It applies at all times."]),
                 ("2", "Messaging apps", ["Staff must not use WhatsApp for school business."]),
                 ("3", "Personal use", ["Staff must not befriend pupils online.", "Staff should keep accounts private."]),
                 ("4", "Breaches", ["A breach may lead to disciplinary action."])])
    result = diff.compare(parse_policy(old).sections, parse_policy(new).sections)
    assert [(s.number, s.kind) for s in result.sections] == [
        ("1", "unchanged"), ("2", "added"), ("3", "renumbered"), ("4", "renumbered")]
    assert (result.counts["added"], result.counts["removed"]) == (1, 0)


def test_the_demo_version_differs_from_the_seed_only_by_clause_5_5():
    """The invented earlier E-ACT version lacks 5.5 (WhatsApp); the rest of the diff is 5.6 renumbered."""
    demo = parse_file(ROOT / "demo/policies/e-act-2021-demo.txt")
    seed = parse_file(ROOT / "content/policies/e-act.txt")
    result = diff.compare(demo.sections, seed.sections)
    assert [(c.kind, c.old_ref, c.new_ref) for c in result.clauses() if c.kind != diff.UNCHANGED] == [
        ("added", None, "5.5"), ("added", None, "5.5.1"), ("renumbered", "5.5", "5.6")]
    assert result.changed_sections == ["5"]
    assert demo.dates == seed.dates and demo.title == seed.title


@dataclass
class QS:
    key: str
    stem: str
    clause_refs: list[str]


def test_check_quiz_bank_sorts_questions_for_review():
    new = [BASE[0], S("2", "Personal accounts", [C("2.1", "Staff must set their profiles to private."),
                                                 C("2.2", BASE[1].clauses[2].text)]),
           BASE[2], S("4", "Breaches", [C("4.1", "A breach may lead to disciplinary action."),
                                        C("4.2", "Staff must report a breach they see.")])]
    result = diff.compare(BASE, new)
    check = diff.check_quiz_bank(result, [QS("friends", "F?", ["2.1"]), QS("images", "I?", ["2.3"]),
                                          QS("admins", "A?", ["3.2"])],
                                 [QS("report", "R?", ["4.2"]), QS("admins", "A?", ["3.2"])])
    assert [(q.key, q.note) for q in check.to_review] == [("friends", "Cites 2.1, which was removed")]
    assert [(q.key, q.note) for q in check.renumbered] == [("images", "Cites 2.3, now 2.2")]
    assert [q.key for q in check.carried] == ["admins"]
    assert [(q.key, q.note) for q in check.on_changes] == [("report", "Cites 4.2, which was added")]
    assert check.needs_attention
