"""The policy parser: the five seeds against checked-in expectations, plus error, layout,
modality and date cases."""

import json
import sys
from pathlib import Path

import pytest

from modules.policies.parser import PolicyParseError, parse_file, parse_policy

REPO = Path(__file__).resolve().parents[2]
EXPECTED = Path(__file__).resolve().parent / "expected"
SLUGS = ["tkat", "e-act", "tasmat", "tsat", "agora"]

#: clauses whose exact text the expectations pin: the ones quizzes and the design cite, plus the
#: ones that exercise an oddity of the source (wrapped lines, bullets, tables, stray characters)
PINNED_TEXT = {
    "tkat": ["1", "2.1", "3.2", "3.3", "3.3.1", "3.3.2", "3.3.3", "3.3.12", "4.1", "4.2", "5.1", "6.3",
             "7.2", "Appendix 1"],
    "e-act": ["1.1", "1.1.1", "2.1.3", "3.3.1", "4.1.1", "4.2.1", "4.3.2", "4.4.2", "4.6", "4.7", "4.8.1", "5.2",
              "5.5.1", "7.1.1"],
    "tasmat": ["2", "2.2", "2.3", "5.2", "6.2", "6.5", "6.6", "6.13", "7.1", "7.3", "8.1", "9.2", "9.4.1"],
    "tsat": ["1.1", "4.7", "5.1", "5.11", "7.1", "A.1", "A.1.8", "A.3.2", "A.3.3", "A.3.4", "A.3.5",
             "A.3.6", "A.3.7", "A.4.11", "A.5.4", "A.5.10"],
    "agora": ["1.1", "2.1", "3.1", "3.3", "3.4", "3.6", "4.1", "5.5", "6.1", "7.2", "7.3"],
}


def snapshot(slug: str) -> dict:
    """What the expectations record for a seed: sections, every ref and parent, pinned texts."""
    policy = parse_file(REPO / "content" / "policies" / f"{slug}.txt")
    clauses = {c.ref: c for s in policy.sections for c in s.clauses}
    return {
        "title": policy.title,
        "dates": policy.dates,
        "sections": [
            {"number": s.number, "title": s.title, "clauses": [[c.ref, c.parent] for c in s.clauses]}
            for s in policy.sections
        ],
        "pinned": {
            ref: {"text": clauses[ref].text, "modality": clauses[ref].modality} for ref in PINNED_TEXT[slug]
        },
    }


def _expected(slug: str) -> dict:
    """The checked-in expectation for a seed."""
    return json.loads((EXPECTED / f"{slug}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("slug", SLUGS)
def test_seed_sections_and_refs_match_expected(slug):
    """Section numbers and titles, every clause ref (in order) and parent match the expectation."""
    actual, expected = snapshot(slug), _expected(slug)
    assert actual["title"] == expected["title"]
    assert actual["dates"] == expected["dates"]
    assert [(s["number"], s["title"]) for s in actual["sections"]] == [
        (s["number"], s["title"]) for s in expected["sections"]
    ]
    for got, want in zip(actual["sections"], expected["sections"], strict=True):
        assert got["clauses"] == want["clauses"], f"section {want['number']}"


@pytest.mark.parametrize("slug", SLUGS)
def test_seed_pinned_clause_texts_match_expected(slug):
    """At least ten clauses per seed come out with exactly the recorded text and modality."""
    expected = _expected(slug)["pinned"]
    assert len(expected) >= 10
    assert snapshot(slug)["pinned"] == expected


SECTION_NUMBERS = {
    "tkat": ["1", "2", "3", "4", "5", "6", "7", "Appendix 1"],
    "e-act": [str(n) for n in range(1, 10)],
    "tasmat": [str(n) for n in range(1, 10)],
    "tsat": ["1", "2", "3", "4", "5", "6", "7", "Appendix 1", "Appendix 2"],
    "agora": [str(n) for n in range(1, 8)],
}


@pytest.mark.parametrize("slug", SLUGS)
def test_seed_sections_are_the_ones_a_reader_would_list(slug):
    """Contents lists, cover pages and ALL-CAPS lines never become sections."""
    policy = parse_file(REPO / "content" / "policies" / f"{slug}.txt")
    assert [s.number for s in policy.sections] == SECTION_NUMBERS[slug]


@pytest.mark.parametrize(
    ("slug", "ref", "starts"),
    [
        ("e-act", "4.3.2", "You consent to such monitoring by your acknowledgement of this Policy"),
        ("tkat", "3.3.12", "**must not** share material in breach of copyright"),
        ("tkat", "3.3.1", "must not make any contact with pupils"),
        ("tsat", "A.4.11", "Staff must not have 1:1 communication"),
        ("tsat", "A.3.2", "Administrators and moderators must have individual access"),
        ("tsat", "A.1.8", "The Data Protection Officer must always be consulted"),
        ("tsat", "A.5.4", "The team must designate at least two approved Administrators"),
        ("tasmat", "9.4.1", "Contracted providers"),
        ("e-act", "1.1.1", "Social media gives the Trust"),
        ("agora", "3.4", "The employee must not express opinions"),
    ],
)
def test_cited_clauses_are_found(slug, ref, starts):
    """Refs other features cite come out as a reader would cite them."""
    clause = parse_file(REPO / "content" / "policies" / f"{slug}.txt").clause(ref)
    assert clause is not None and clause.text.startswith(starts)


def test_titles_come_from_the_contents_list_and_shouting_is_calmed():
    """A contents list supplies clean titles; ALL-CAPS body headings become sentence case."""
    tkat = parse_file(REPO / "content" / "policies" / "tkat.txt")
    assert tkat.sections[-1].title == "Authorised users of TKAT/school social media accounts"
    tsat = parse_file(REPO / "content" / "policies" / "tsat.txt")
    assert tsat.sections[0].title == "Introduction"
    assert tsat.sections[7].title == "Requirements for creating social media sites on behalf of the Academy"


# -- errors ----------------------------------------------------------------------------------------


def test_empty_text_is_an_error():
    """Empty or whitespace-only text raises PolicyParseError."""
    with pytest.raises(PolicyParseError, match="empty"):
        parse_policy("  \n\n\t")


def test_empty_file_is_an_error(tmp_path):
    """An empty file raises PolicyParseError naming the problem."""
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(PolicyParseError, match="empty"):
        parse_file(path)


def test_binary_file_is_an_error(tmp_path):
    """A file with NUL bytes (a .docx, a PDF) is refused as binary."""
    path = tmp_path / "policy.docx"
    path.write_bytes(b"PK\x03\x04\x00\x00binary")
    with pytest.raises(PolicyParseError, match="binary"):
        parse_file(path)


def test_undecodable_file_is_an_error(tmp_path):
    """Bytes that are not UTF-8 are refused with a clear message."""
    path = tmp_path / "policy.txt"
    path.write_bytes(b"1 Introduction\n1.1 Caf\xe9 \xff\xfe rules\n")
    with pytest.raises(PolicyParseError, match="not UTF-8"):
        parse_file(path)


def test_text_without_structure_is_an_error():
    """Prose with no numbered headings is not a policy the parser can structure."""
    with pytest.raises(PolicyParseError, match="No numbered sections"):
        parse_policy("Social Media Policy\n\nStaff should be sensible online.\n\nThank you.\n")


def test_utf8_bom_is_accepted(tmp_path):
    """A byte-order mark from Windows editors does not break the first heading."""
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffPolicy\n\n1 Scope\n\n1.1 Applies to all staff.\n".encode())
    assert parse_file(path).clause("1.1").text == "Applies to all staff."


# -- layouts ---------------------------------------------------------------------------------------


def test_number_with_no_space_before_text():
    """"1.1.1.Social media…" splits into ref 1.1.1 and its text."""
    policy = parse_policy("Policy\n\n1. Introduction\n\n1.1. Statement\n\n1.1.1.Social media is useful.\n")
    clause = policy.clause("1.1.1")
    assert clause.text == "Social media is useful."
    assert clause.parent == "1.1"
    assert policy.clause("1.1").parent == "1"


def test_appendix_refs_are_normalised():
    """"A 3.2", "A. 1.8" and "A.1" all become dotted refs with sensible parents."""
    text = (
        "Policy\n\n1 Scope\n\n1.1 Everyone.\n\nAPPENDIX 1\n\nRequirements\n\nA.1 SITES\n\n"
        "- A.1.1 First.\n- A. 1.8 Eighth.\n\nA 3.2 Second of three.\n"
    )
    policy = parse_policy(text)
    appendix = policy.sections[-1]
    assert (appendix.number, appendix.title) == ("Appendix 1", "Requirements")
    assert [(c.ref, c.parent) for c in appendix.clauses] == [
        ("A.1", "Appendix 1"), ("A.1.1", "A.1"), ("A.1.8", "A.1"), ("A.3.2", "Appendix 1"),
    ]


def test_lettered_items_are_clauses():
    """"(a)", "(b)" under 3.2 become 3.2(a), 3.2(b) with parent 3.2."""
    policy = parse_policy("P\n\n3 Rules\n\n3.1 Be kind.\n3.2 Staff must:\n(a) log in;\n(b) log out.\n")
    assert [(c.ref, c.parent) for c in policy.sections[0].clauses] == [
        ("3.1", "3"), ("3.2", "3"), ("3.2(a)", "3.2"), ("3.2(b)", "3.2"),
    ]
    assert policy.clause("3.2(b)").text == "log out."


def test_unnumbered_text_opens_and_joins_clauses():
    """Text before a section's first clause is clause "<n>"; later text joins the clause before it."""
    text = "P\n\n2 SCOPE\n\nThis applies to:\n\nGovernors\n\n2.2 It covers use.\n\n- on phones\n- at home\n"
    section = parse_policy(text).sections[0]
    assert section.title == "Scope"
    assert [(c.ref, c.parent, c.text) for c in section.clauses] == [
        ("2", None, "This applies to:\n\nGovernors"),
        ("2.2", "2", "It covers use.\n\n- on phones\n- at home"),
    ]


def test_missing_level_parents_to_the_section():
    """2.4.1 with no 2.4 hangs from section 2 rather than a clause that does not exist."""
    policy = parse_policy("P\n\n1 Scope\n\n1.1 All.\n\n2 Breaches\n\n2.1 One.\n\n2.4.1 Providers must report.\n")
    assert policy.clause("2.4.1").parent == "2"


def test_contents_list_without_page_numbers_is_skipped():
    """A contents list repeated by the body headings creates no sections or clauses."""
    text = "Policy\n\n1 Introduction\n\n2 Scope\n\n3 Rules\n\n1 INTRODUCTION\n\n1.1 Hello.\n\n2 SCOPE\n\n" \
           "2.1 All.\n\n3 RULES\n\n3.1 Be good.\n"
    policy = parse_policy(text)
    assert [(s.number, s.title, [c.ref for c in s.clauses]) for s in policy.sections] == [
        ("1", "Introduction", ["1.1"]), ("2", "Scope", ["2.1"]), ("3", "Rules", ["3.1"]),
    ]


def test_markdown_headings_and_stray_bracket():
    """Markdown heading markers and bold are not part of refs; an unmatched "]" is dropped."""
    text = "# Social media policy\n\n## 1. Introduction\n\n### 1.1 The aims are to:\n\n- be safe\n\n" \
           "### **2. Personal use**\n\n### 2.1 Use it at lunch.]\n"
    policy = parse_policy(text)
    assert policy.title == "Social media policy"
    assert [(s.number, s.title) for s in policy.sections] == [("1", "Introduction"), ("2", "Personal use")]
    assert policy.clause("1.1").text == "The aims are to:\n\n- be safe"
    assert policy.clause("2.1").text == "Use it at lunch."


def test_to_dict_shape():
    """to_dict() is the `flask policy parse --json` shape plus dates, warnings and each section's confidence."""
    data = parse_policy("Policy\n\nIssued: 3 March 2024\n\n1 Scope\n\n1.1 Staff must read this.\n").to_dict()
    assert data == {
        "title": "Policy",
        "sections": [{"number": "1", "title": "Scope", "confidence": "high", "clauses": [
            {"ref": "1.1", "parent": "1", "text": "Staff must read this.", "modality": "must"},
        ]}],
        "dates": {"issued": "2024-03-03"},
        "warnings": [],
    }


# -- modality --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "modality"),
    [
        ("Staff must not contact pupils.", "must_not"),
        ("Staff **must never** share passwords.", "must_not"),
        ("Individuals are strictly prohibited from posting material.", "must_not"),
        ("The school does not permit personal use while at work.", "must_not"),
        ("There will be no social media presence on external platforms.", "must_not"),
        ("Sharing logins is not allowed.", "must_not"),
        ("Chain letters are never permitted.", "must_not"),
        ("Do not use our logos without permission.", "must_not"),
        ("Admins must have their own access and cannot share login credentials.", "must_not"),
        ("Staff must decline friend requests; they should not reply.", "must"),
        ("Staff are also required to comply with this policy.", "must"),
        ("Staff can only use official sites.", "must"),
        ("Staff should keep passwords confidential.", "should"),
        ("Staff should not accept ex-pupils under 18.", "should_not"),
        ("Staff should refrain from posting until it is discussed.", "should_not"),
        ("Caution is advised when inviting colleagues.", "should"),
        ("The Trust may monitor usage of ICT facilities.", "may"),
        ("Staff can use the staff room wifi.", "may"),
        ("Be respectful, and be aware that they cannot control reposts.", "info"),
        ("You consent to such monitoring by your acknowledgement of this Policy.", "info"),
        # An organisation's promise about itself is not a staff duty (E-ACT 4.8.1).
        ("The Trust will not, either themselves or through a third party, conduct searches on applicants.", "info"),
        ("The Academy will not share your data.", "info"),
        ("We will not contact your referees.", "info"),
        ("Staff will not post during lessons.", "must_not"),
        # A lead that introduces a list decides the clause (E-ACT 4.4.2): an imperative lead is a must, even
        # when a list item also forbids something; a lead with no force of its own leaves the whole text to decide.
        ("In your email, provide the following detail:\n\n- The platform\n- Two contacts. You must not use "
         "your personal e-mail address.", "must"),
        ("The employee must not use social media to:\n\n- defame the Trust\n- must share nothing", "must_not"),
        ("Safeguarding:\n\n- You must never message a pupil.\n- Staff must report concerns.", "must_not"),
    ],
)
def test_modality(text, modality):
    """Modality comes from the clause's own wording; prohibition beats obligation."""
    policy = parse_policy(f"P\n\n1 Rules\n\n1.1 {text}\n")
    assert policy.clause("1.1").modality == modality


# -- dates -----------------------------------------------------------------------------------------


def test_dates_from_labelled_front_matter():
    """Issued / reviewed / next review come from labelled lines, full dates and month-only dates."""
    text = (
        "Use Policy\n\nDate policy first issued\t28/05/2015\t\nPolicy updated\tDecember 2023\t\n"
        "Next policy review date\tDecember 2025\t\n\n1 Introduction\n\n1.1 Hello. Reviewed June 2030.\n"
    )
    assert parse_policy(text).dates == {"issued": "2015-05-28", "reviewed": "2023-12", "next_review": "2025-12"}


def test_dates_with_approval_and_bare_date():
    """Approval counts as issue unless a first-issue date is given; a bare date line is the issue date."""
    approved = "Policy\n\nDate of Approval: January 2021\n\nDate of Review: January 2023\n\n1 A\n\n1.1 B.\n"
    assert parse_policy(approved).dates == {"issued": "2021-01", "next_review": "2023-01"}
    both = "P\n\nAPPROVAL DATE: December 2021\n\nDATE FIRST ISSUED: September 2018\n\n" \
           "LAST REVIEWED: November 2021\n\n1 A\n\n1.1 B.\n"
    assert parse_policy(both).dates == {"issued": "2018-09", "reviewed": "2021-11"}
    bare = "Some Trust\n\nSocial Media Policy\n\nJanuary 2018\n\n1 A\n\n1.1 B.\n"
    assert parse_policy(bare).dates == {"issued": "2018-01"}


@pytest.mark.parametrize(
    ("slug", "dates"),
    [
        ("tkat", {"issued": "2015-05-28", "reviewed": "2023-12", "next_review": "2025-12"}),
        ("e-act", {"issued": "2021-01", "next_review": "2023-01"}),
        ("tasmat", {"issued": "2018-01"}),
        ("tsat", {"issued": "2022-12", "next_review": "2026-12"}),
        ("agora", {"issued": "2018-09", "reviewed": "2021-11", "next_review": "2024-11"}),
    ],
)
def test_seed_dates(slug, dates):
    """Each seed's stated dates are picked up."""
    assert parse_file(REPO / "content" / "policies" / f"{slug}.txt").dates == dates


if __name__ == "__main__":
    # Regenerate expectations: `PYTHONPATH=. python tests/policies/test_parser.py [slug ...]`.
    # Read the diff against the source document before committing it.
    for name in sys.argv[1:] or SLUGS:
        out = EXPECTED / f"{name}.json"
        out.write_text(json.dumps(snapshot(name), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {out}")
