"""The layout corpus: realistic policies in the layouts trusts produce, each parsed to the expected sections
and refs, or refused with a message saying what to fix. Never silently wrong.

Each `corpus/NN_name.(txt|md)` has a `corpus/NN_name.json` beside it:
  title, sections [{number, title, refs}], texts {ref: start of its text}, parents {ref: parent},
  confidence {section: level}, absent [text that must appear in no title or clause],
  warnings [text each found in some warning; an empty list means no warnings at all],
  or refused: text the refusal message contains.
"""

import json
import re
from pathlib import Path

import pytest

from modules.policies.parser import PolicyParseError, parse_file

CORPUS = Path(__file__).resolve().parent / "corpus"
CASES = sorted(p for p in CORPUS.iterdir() if p.suffix in (".txt", ".md"))


def check(policy_or_error, expected: dict) -> None:
    """Compare a parse (or its refusal) with a corpus expectation."""
    if "refused" in expected:
        assert isinstance(policy_or_error, PolicyParseError), "expected a refusal, got a parse"
        assert expected["refused"] in str(policy_or_error)
        return
    assert not isinstance(policy_or_error, Exception), policy_or_error
    policy = policy_or_error
    if "title" in expected:
        assert policy.title == expected["title"]
    got = [{"number": s.number, "title": s.title, "refs": [c.ref for c in s.clauses]} for s in policy.sections]
    assert got == expected["sections"], "\n".join(policy.warnings)
    clauses = {c.ref: c for s in policy.sections for c in s.clauses}
    for ref, start in expected.get("texts", {}).items():
        assert clauses[ref].text.startswith(start), (ref, clauses[ref].text)
    for ref, parent in expected.get("parents", {}).items():
        assert clauses[ref].parent == parent, ref
    levels = {s.number: s.confidence for s in policy.sections}
    for number, level in expected.get("confidence", {}).items():
        assert levels[number] == level, (number, policy.warnings)
    everything = [policy.title] + [s.title for s in policy.sections] + [c.text for c in clauses.values()]
    for text in expected.get("absent", []):
        assert not any(text in item for item in everything), text
    # Page numbers never end a title.
    assert not any(re.search(r"\s\d{1,3}$", s.title) for s in policy.sections)
    if expected.get("warnings") == []:
        assert policy.warnings == []
    for text in expected.get("warnings", []):
        assert any(text in warning for warning in policy.warnings), (text, policy.warnings)


def _parse(path: Path):
    """Parse a corpus file, returning the refusal instead of raising it."""
    try:
        return parse_file(path)
    except PolicyParseError as exc:
        return exc


def test_corpus_has_the_layouts_the_issue_names():
    """At least twelve text layouts, each with its expectation."""
    assert len(CASES) >= 12
    for case in CASES:
        assert case.with_suffix(".json").exists(), case.name


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_corpus_layout_parses_to_expected(path):
    """Each layout parses to its expected sections and refs, with the warnings a person should see."""
    check(_parse(path), json.loads(path.with_suffix(".json").read_text(encoding="utf-8")))


def test_low_confidence_when_a_section_swallows_the_document():
    """A section holding most of a long document is flagged as implausibly long, never passed silently."""
    body = "\n\n".join(f"Staff must follow rule number {n} of the academy at all times when online." for n in range(120))
    text = f"Policy\n\n1 Introduction\n\n1.1 Hello.\n\n2 Rules\n\n2.1 Rules follow.\n\n{body}\n\n3 End\n\n3.1 Bye.\n"
    policy = parse_file_text(text)
    rules = policy.sections[1]
    assert rules.confidence == "low"
    assert any("implausibly long" in w for w in policy.warnings)


def parse_file_text(text: str):
    """Parse text as the parser would a file's."""
    from modules.policies.parser import parse_policy

    return parse_policy(text)


# -- Word and PDF files, generated here ----------------------------------------------------------------

WORD_OUTLINE = [
    ("title", "Fairfield Academies Trust Staff Social Media Policy"),
    ("p", "Approved by the Board of Trustees: 1 May 2024"),
    ("toc", "1 Introduction\t2"), ("toc", "2 Personal use of social media\t2"), ("toc", "3 Official accounts\t3"),
    ("h1n", "Introduction"),
    ("clause", "This policy applies to everyone who works for Fairfield Academies Trust, paid or unpaid."),
    ("clause", "It covers all social media and messaging services, on any device."),
    ("h1n", "Personal use of social media"),
    ("clause", "Staff must not contact pupils through personal accounts, including by:"),
    ("letter", "sending or accepting friend or follow requests;"),
    ("letter", "direct or private messages."),
    ("clause", "Staff should keep their personal accounts private."),
    ("sub", "Privacy settings should be checked at least once a term."),
    ("h1n", "Official accounts"),
    ("clause", "Each official account is approved by the Headteacher and recorded in the register below."),
    ("table", [["Account", "Administrators", "Approved by"], ["@FairfieldPrimary", "J. Patel, S. Okafor", "Headteacher"]]),
    ("bullet", "The register is reviewed every term."),
]


def test_word_document_with_heading_styles_and_list_numbering():
    """Word's Heading 1 and its own list numbering (1, 1.1, 1.1.1, (a)) are the structure; the contents list,
    header and footer are never body text; a table stays with its clause."""
    from modules.policies.parser import parse_source
    from tests.policies.corpus_build import build_docx

    policy = parse_source(build_docx(WORD_OUTLINE, header="Fairfield Academies Trust – Social Media Policy"))
    check(policy, {
        "title": "Fairfield Academies Trust Staff Social Media Policy",
        "sections": [
            {"number": "1", "title": "Introduction", "refs": ["1.1", "1.2"]},
            {"number": "2", "title": "Personal use of social media", "refs": ["2.1", "2.1(a)", "2.1(b)", "2.2", "2.2.1"]},
            {"number": "3", "title": "Official accounts", "refs": ["3.1"]},
        ],
        "texts": {"2.1(b)": "direct or private messages.", "2.2.1": "Privacy settings should be checked",
                  "3.1": "Each official account is approved by the Headteacher and recorded in the register below."
                         "\n\nAccount\tAdministrators\tApproved by\n@FairfieldPrimary\tJ. Patel, S. Okafor\tHeadteacher"
                         "\n\n- The register is reviewed every term."},
        "parents": {"2.1(a)": "2.1", "2.2.1": "2.2"},
        "absent": ["Page 1 of 3", "Fairfield Academies Trust – Social Media Policy"],
        "warnings": ["Left out Word's contents list"],
    })
    assert policy.dates == {"issued": "2024-05"} or policy.dates.get("issued", "").startswith("2024-05")


def test_word_document_of_prose_under_heading_styles():
    """Unnumbered Heading 1 paragraphs over prose: sections from the styles, paragraphs numbered with a warning."""
    from modules.policies.parser import parse_source
    from tests.policies.corpus_build import build_docx

    spec = [
        ("title", "Staff Social Media Guidance"),
        ("h1", "Why this matters"),
        ("p", "Social media helps us share pupils' successes, but careless use can put children at risk."),
        ("h1", "Contact with pupils"),
        ("p", "Staff must not message pupils from personal accounts."),
        ("p", "Report any contact from a pupil to the Designated Safeguarding Lead:"),
        ("bullet", "on the same day;"), ("bullet", "with a screenshot where it is safe to take one."),
        ("h1", "Your own accounts"),
        ("bold", "Privacy"),
        ("p", "Keep personal accounts private and never name the academy as your employer."),
    ]
    policy = parse_source(build_docx(spec))
    check(policy, {
        "title": "Staff Social Media Guidance",
        "sections": [
            {"number": "1", "title": "Why this matters", "refs": ["1.1"]},
            {"number": "2", "title": "Contact with pupils", "refs": ["2.1", "2.2"]},
            {"number": "3", "title": "Your own accounts", "refs": ["3.1", "3.2"]},
        ],
        "texts": {"2.2": "Report any contact from a pupil to the Designated Safeguarding Lead:\n\n- on the same day;"},
        "warnings": ["PolicyPass numbered them 2.1, 2.2"],
    })
    assert all(s.confidence == "medium" for s in policy.sections)


PDF_SECTIONS = [
    ("1", "Introduction", ["1.1 This policy applies to all staff, governors and volunteers of Hillcrest Learning Trust.",
                           "1.2 It should be read with the Staff Code of Conduct."]),
    ("2", "Personal use", ["2.1 Staff must not accept friend requests from pupils or former pupils under 18.",
                           "2.2 Staff must not post images of pupils on personal accounts."]),
    ("3", "Official accounts", ["3.1 Official accounts need the Headteacher's written approval.",
                                "3.2 Each official account must have two administrators."]),
    ("4", "Breaches", ["4.1 A breach may lead to disciplinary action."]),
]


def test_pdf_with_running_headers_page_footers_and_paged_contents():
    """A WeasyPrint PDF: contents page numbers never reach titles, headers and "Page N of M" never reach text."""
    from modules.policies.parser import parse_source
    from tests.policies.corpus_build import build_pdf

    header = "Hillcrest Learning Trust – Staff Social Media Policy"
    policy = parse_source(build_pdf("Hillcrest Learning Trust Social Media Policy", header, PDF_SECTIONS))
    check(policy, {
        "title": "Hillcrest Learning Trust Social Media Policy",
        "sections": [{"number": n, "title": t, "refs": [c.split()[0] for c in cs]} for n, t, cs in PDF_SECTIONS],
        "texts": {"2.2": "Staff must not post images of pupils on personal accounts.",
                  "4.1": "A breach may lead to disciplinary action."},
        "absent": ["Page 2 of", header],
        "warnings": ["running page header", "Page"],
    })
    assert all(s.confidence == "high" for s in policy.sections)


def test_flask_policy_parse_reads_a_word_file_with_warnings_and_confidence(empty_app, tmp_path):
    """`flask policy parse FILE.docx --json` prints the same JSON plus warnings and each section's confidence."""
    from tests.policies.corpus_build import build_docx

    path = tmp_path / "policy.docx"
    path.write_bytes(build_docx(WORD_OUTLINE))
    result = empty_app.test_cli_runner().invoke(args=["policy", "parse", str(path), "--json"])
    assert result.exit_code == 0, result.output
    import json as _json

    data = _json.loads(result.output)
    assert [(s["number"], s["title"], s["confidence"]) for s in data["sections"]] == [
        ("1", "Introduction", "high"), ("2", "Personal use of social media", "high"), ("3", "Official accounts", "high"),
    ]
    assert data["sections"][1]["clauses"][0] == {
        "ref": "2.1", "parent": "2", "modality": "must_not",
        "text": "Staff must not contact pupils through personal accounts, including by:",
    }
    assert any("contents list" in w for w in data["warnings"])
