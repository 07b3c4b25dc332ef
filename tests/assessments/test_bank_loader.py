"""Reading and checking a bank on its own and against policy clauses: every problem is file:line: reason."""

import textwrap

import pytest

from modules.assessments.bank import (
    BankError,
    VersionText,
    match_versions,
    normalise,
    parse_bank,
    quote_found,
)

GOOD = textwrap.dedent("""\
    trust: demo
    questions:
      - id: demo-friend-request
        core_id: pupil-friend-request
        section: "3"
        clauses: ["3.1"]
        type: single
        stem: A pupil sends you a friend request. What do you do?
        options:
          - id: a
            text: Accept it.
            feedback: No.
          - id: b
            text: Do not respond, and tell your line manager.
            feedback: Yes.
          - id: c
            text: Reply politely.
            feedback: No.
        correct: [b]
        explanation: Clause 3.1 says do not respond.
        quote: "must not   respond to ‘friend’ requests"
        reviewed: true
        ambiguous: false
      - id: demo-tf
        section: "3"
        clauses: ["3.1", "3.2"]
        type: true_false
        stem: True or false?
        options:
          - {id: "true", text: "True", feedback: "Right."}
          - {id: "false", text: "False", feedback: "Wrong."}
        correct: ["true"]
        explanation: Because.
        quote: report it
        reviewed: false
    """)

V1 = VersionText(key=1, label="version 1", sections=frozenset({"3"}), clauses={
    "3.1": "Staff must not respond to 'friend'\nrequests from pupils.", "3.2": "Always report it to your manager."})


def errors(text: str, **kwargs) -> list[str]:
    """The problems parse_bank reports, as strings."""
    with pytest.raises(BankError) as caught:
        parse_bank(text, "quizzes/demo.yaml", **kwargs)
    return [str(p) for p in caught.value.problems]


def test_a_good_bank_parses():
    """A valid bank gives its questions in order with their lines."""
    bank = parse_bank(GOOD, "quizzes/demo.yaml", expected_trust="demo")
    assert [q.id for q in bank.questions] == ["demo-friend-request", "demo-tf"]
    assert bank.questions[0].line == 3 and bank.questions[1].line == 24
    assert bank.questions[0].line_of("quote") == 21
    assert bank.questions[0].drawable and not bank.questions[1].drawable


def test_yaml_syntax_error_has_its_line():
    """Broken YAML is reported at the line the parser stopped on."""
    text = GOOD.replace("    type: single\n", "    type: single\n   stem: [oops\n")
    [problem] = errors(text)
    assert problem.startswith("quizzes/demo.yaml:8: not valid YAML: ")


def test_missing_field_points_at_the_question():
    """A required field that is missing is reported on the question's first line."""
    text = GOOD.replace("    quote: \"must not   respond to ‘friend’ requests\"\n", "")
    assert errors(text) == ["quizzes/demo.yaml:3: question demo-friend-request: 'quote' is a required property"]


def test_unknown_field_points_at_its_own_line():
    """An unknown field is named, on its own line."""
    text = GOOD.replace("    reviewed: false\n", "    reviewed: false\n    difficulty: hard\n")
    assert errors(text) == ["quizzes/demo.yaml:36: question demo-tf, difficulty: unknown field 'difficulty'"]


def test_wrong_types_and_values_point_at_the_value():
    """An unquoted section number, an unknown type and an empty stem are each reported on their line."""
    text = GOOD.replace('section: "3"\n    clauses: ["3.1"]', 'section: 3\n    clauses: ["3.1"]')
    text = text.replace("type: true_false", "type: yes_no").replace("stem: True or false?", 'stem: ""')
    assert errors(text) == [
        "quizzes/demo.yaml:5: question demo-friend-request, section: 3 is not of type 'string'",
        "quizzes/demo.yaml:27: question demo-tf, type: 'yes_no' is not one of ['multiple', 'single', 'true_false']",
        "quizzes/demo.yaml:28: question demo-tf, stem: must not be empty",
    ]


def test_ambiguous_needs_a_note():
    """ambiguous: true without a note is an error."""
    text = GOOD.replace("    ambiguous: false\n", "    ambiguous: true\n")
    assert errors(text) == ["quizzes/demo.yaml:3: question demo-friend-request: an ambiguous question needs a note "
                            "saying what is ambiguous and why"]


def test_duplicate_ids_keys_and_core_ids():
    """A repeated question id, core_id or YAML key is reported where it repeats."""
    text = GOOD.replace("  - id: demo-tf\n", "  - id: demo-friend-request\n    core_id: pupil-friend-request\n")
    assert errors(text) == [
        "quizzes/demo.yaml:24: question demo-friend-request: duplicate id (first used on line 3)",
        "quizzes/demo.yaml:25: question demo-friend-request: core_id pupil-friend-request is already used on line 3",
    ]
    assert errors(GOOD.replace("    reviewed: false\n", "    reviewed: false\n    reviewed: true\n")) == [
        "quizzes/demo.yaml:36: duplicate key 'reviewed'"]


def test_type_rules_come_from_the_registry():
    """Too few options for single, or a second key for true_false, fail with the type's own reason."""
    text = GOOD.replace("      - id: c\n        text: Reply politely.\n        feedback: No.\n", "")
    text = text.replace('correct: ["true"]', 'correct: ["true", "false"]')
    assert errors(text) == [
        "quizzes/demo.yaml:9: question demo-friend-request: a single question needs 3 to 5 options, not 2",
        "quizzes/demo.yaml:29: question demo-tf: a true_false question has exactly 1 correct option",
    ]


def test_trust_must_match_the_file():
    """quizzes/<slug>.yaml must say trust: <slug>."""
    assert errors(GOOD, expected_trust="other") == [
        "quizzes/demo.yaml:1: trust is 'demo' but the file is for 'other'"]


def test_quotes_are_matched_after_normalising_whitespace_and_quote_marks():
    """Curly quotes, straight quotes and line breaks compare equal; other words do not."""
    assert normalise("  ‘friend’\n  “x”  ") == "'friend' \"x\""
    assert quote_found("must not respond to ‘friend’ requests", [V1.clauses["3.1"]])
    assert not quote_found("must not reply", [V1.clauses["3.1"]])


def test_questions_apply_to_versions_with_all_their_clauses():
    """A question applies to each version containing every clause it cites (and its quote)."""
    bank = parse_bank(GOOD, "quizzes/demo.yaml")
    v2 = VersionText(key=2, label="version 2", sections=frozenset({"3"}), clauses={"3.1": V1.clauses["3.1"]})
    assert match_versions(bank, [V1, v2]) == {"demo-friend-request": [1, 2], "demo-tf": [1]}


def test_clause_in_no_version_is_a_load_error():
    """A cited clause that no version has is reported on the clauses line."""
    bank = parse_bank(GOOD.replace('clauses: ["3.1", "3.2"]', 'clauses: ["3.1", "3.9"]'), "quizzes/demo.yaml")
    with pytest.raises(BankError) as caught:
        match_versions(bank, [V1], "Demo")
    assert [str(p) for p in caught.value.problems] == [
        "quizzes/demo.yaml:26: question demo-tf: clause 3.9 is in none of Demo's policy versions"]


def test_quote_not_in_the_clause_is_a_load_error():
    """A quotation not found in the cited clauses is reported on the quote line."""
    bank = parse_bank(GOOD.replace("quote: report it", "quote: report it to the DSL"), "quizzes/demo.yaml")
    with pytest.raises(BankError) as caught:
        match_versions(bank, [V1], "Demo")
    assert [str(p) for p in caught.value.problems] == [
        "quizzes/demo.yaml:34: question demo-tf: quote not found in the text of clause 3.1, 3.2: "
        "'report it to the DSL'"]


def test_section_missing_is_a_load_error():
    """A question whose section is not in the versions holding its clauses cannot be placed in a module."""
    bank = parse_bank(GOOD.replace('section: "3"\n    clauses: ["3.1", "3.2"]',
                                   'section: "4"\n    clauses: ["3.1", "3.2"]'), "quizzes/demo.yaml")
    with pytest.raises(BankError) as caught:
        match_versions(bank, [V1], "Demo")
    assert "quizzes/demo.yaml:25: question demo-tf: section '4'" in str(caught.value)


# --------------------------------------------------------------------------- not_examined and silent

def test_not_examined_and_silent_are_read():
    """A bank may list clauses it does not examine, with a reason, and mark a question silent."""
    text = GOOD.replace("    reviewed: false\n", "    reviewed: false\n    silent: true\n") + textwrap.dedent("""\
        not_examined:
          - clause: "3.2"
            reason: It binds third parties, not staff.
        """)
    bank = parse_bank(text, "quizzes/demo.yaml")
    assert bank.exclusions() == {"3.2": "It binds third parties, not staff."}
    assert bank.not_examined[0].line == 38
    assert [q.silent for q in bank.questions] == [False, True]
    assert "silent" in bank.questions[1].content() and "silent" not in bank.questions[0].content()
    assert match_versions(bank, [V1]) == {"demo-friend-request": [1], "demo-tf": [1]}


def test_an_exclusion_needs_a_reason_and_a_clause_once():
    """No reason, or the same clause twice, is a load error at its line."""
    no_reason = GOOD + 'not_examined:\n  - clause: "3.2"\n'
    [problem] = errors(no_reason)
    assert problem.startswith("quizzes/demo.yaml:37: ") and "'reason' is a required property" in problem
    twice = GOOD + 'not_examined:\n  - {clause: "3.2", reason: A.}\n  - {clause: "3.2", reason: B.}\n'
    [problem] = errors(twice)
    assert problem == "quizzes/demo.yaml:38: not_examined: clause 3.2 is already listed on line 37"


def test_a_clause_cannot_be_both_examined_and_excluded():
    """A reviewed question citing an excluded clause contradicts the exclusion."""
    text = GOOD + 'not_examined:\n  - {clause: "3.1", reason: Not for staff.}\n'
    [problem] = errors(text)
    assert problem == ("quizzes/demo.yaml:6: question demo-friend-request examines clause 3.1, which not_examined "
                       "(line 37) says is not examined: remove one of them")


def test_an_excluded_clause_must_exist():
    """An exclusion naming a clause in none of the versions fails against them."""
    bank = parse_bank(GOOD + 'not_examined:\n  - {clause: "9.9", reason: Gone.}\n', "quizzes/demo.yaml")
    with pytest.raises(BankError) as caught:
        match_versions(bank, [V1], "Demo")
    assert [str(p) for p in caught.value.problems] == [
        "quizzes/demo.yaml:37: not_examined: clause 9.9 is in none of Demo's policy versions"]
