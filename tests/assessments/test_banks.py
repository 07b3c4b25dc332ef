"""The five real banks (quizzes/<slug>.yaml) against the rules of issue 3 and docs/quiz-bank-format.md.

Pure: the banks are read with the loader and checked against the seed policies as the parser reads them.
"""

from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from modules.assessments.bank import Bank, VersionText, match_versions, read_bank
from modules.assessments.draft import draft_bank
from modules.policies.parser import ParsedPolicy, parse_file

ROOT = Path(__file__).resolve().parents[2]
SLUGS = ["tkat", "e-act", "tasmat", "tsat", "agora"]
OBLIGATIONS = ("must", "must_not")
#: The shared-core scenarios of issue 3, one core_id each.
CORE_IDS = {"pupil-friend-request", "former-pupil-contact", "parent-friend-request", "pupil-photos-consent",
            "press-enquiry", "logo-on-personal-profile", "whatsapp-groups", "linkedin-references",
            "hacked-account", "disparaging-post", "personal-use-working-hours", "official-account-setup",
            "wikipedia-editing"}


@cache
def bank(slug: str) -> Bank:
    """The trust's bank, read and checked on its own."""
    return read_bank(ROOT / "quizzes" / f"{slug}.yaml")


@cache
def policy(slug: str) -> ParsedPolicy:
    """The trust's policy as the parser reads it."""
    return parse_file(ROOT / "content" / "policies" / f"{slug}.txt")


def version_text(slug: str) -> VersionText:
    """The seed policy in the shape match_versions takes."""
    parsed = policy(slug)
    return VersionText(key=1, label="version 1", sections=frozenset(s.number for s in parsed.sections),
                       clauses={c.ref: c.text for s in parsed.sections for c in s.clauses})


def test_no_part_files_are_left():
    """The merged banks replaced quizzes/parts/."""
    assert not (ROOT / "quizzes" / "parts").exists()
    assert sorted(p.stem for p in (ROOT / "quizzes").glob("*.yaml")) == sorted(SLUGS)


@pytest.mark.parametrize("slug", SLUGS)
def test_every_question_cites_real_clauses_and_quotes_them(slug):
    """Each question's clauses exist in the seed, its section does too, and its quote is in a cited clause."""
    applies = match_versions(bank(slug), [version_text(slug)], slug)
    assert set(applies) == {q.id for q in bank(slug).questions}


@pytest.mark.parametrize("slug", SLUGS)
def test_at_least_25_questions_and_at_most_30_percent_true_false(slug):
    """A bank has 25 or more questions, no more than 30% of them true/false."""
    questions = bank(slug).questions
    assert len(questions) >= 25
    assert sum(q.type == "true_false" for q in questions) <= 0.3 * len(questions)


@pytest.mark.parametrize("slug", SLUGS)
def test_every_obligation_bearing_module_has_two_reviewed_unambiguous_questions(slug):
    """Each section with a must / must-not clause has at least two questions that can reach staff."""
    drawable = Counter(q.section for q in bank(slug).questions if q.drawable)
    short = {s.number: drawable[s.number] for s in policy(slug).sections
             if any(c.modality in OBLIGATIONS for c in s.clauses) and drawable[s.number] < 2}
    assert not short, f"sections with obligations and fewer than 2 reviewed, unambiguous questions: {short}"


@pytest.mark.parametrize("slug", SLUGS)
def test_ambiguous_questions_say_why(slug):
    """Every ambiguous question carries a note."""
    assert all(q.note for q in bank(slug).questions if q.ambiguous)


def test_shared_core_is_the_same_scenario_in_all_five_banks():
    """Each core scenario has the same core_id, type, stem, option ids and option texts in every bank."""
    seen: dict[str, dict[str, tuple]] = {}
    for slug in SLUGS:
        for q in bank(slug).questions:
            if q.core_id:
                seen.setdefault(q.core_id, {})[slug] = (q.type, q.stem, tuple((o["id"], o["text"]) for o in q.options))
    assert set(seen) == CORE_IDS
    for core_id, per_trust in seen.items():
        assert sorted(per_trust) == sorted(SLUGS), core_id
        assert len(set(per_trust.values())) == 1, f"{core_id} differs between banks"


def test_the_friend_request_key_differs_by_trust_and_cites_each_trusts_clause():
    """TKAT, E-ACT and TaSMAT answer the same friend-request scenario differently, each from its own clause."""
    keys = {}
    for slug, clause in (("tkat", "3.3.1"), ("e-act", "5.2"), ("tasmat", "6.6")):
        [q] = [q for q in bank(slug).questions if q.core_id == "pupil-friend-request"]
        assert clause in q.clauses and q.drawable
        keys[slug] = frozenset(q.correct)
    assert len(set(keys.values())) == 3


def test_no_reviewed_question_is_a_generator_draft():
    """No reviewed stem is one `flask quizzes draft` would write for the same policy."""
    for slug in SLUGS:
        drafts = {q["stem"] for q in draft_bank(policy(slug), slug)["questions"]}
        copied = [q.id for q in bank(slug).questions if q.reviewed and q.stem in drafts]
        assert not copied, f"{slug}: reviewed questions copied from a draft: {copied}"


#: Words a silent question's explanation uses to say the policy is silent.
SILENT_WORDS = ("does not say", "does not cover", "does not mention", "says nothing", "has no rule", "has no specific rule",
                "names no one", "no rule on")


@pytest.mark.parametrize("slug", SLUGS)
def test_silent_questions_are_marked_and_say_so(slug):
    """A question keyed to "the policy has no specific rule" is marked silent, and its explanation says so."""
    for q in bank(slug).questions:
        keyed = [o["text"] for o in q.options if o["id"] in q.correct]
        assert q.silent == any(t.startswith("The policy has no specific rule") for t in keyed), q.id
        if q.silent:
            assert any(w in q.explanation for w in SILENT_WORDS), f"{q.id}: the explanation must say the policy is silent"


@pytest.mark.parametrize("slug", SLUGS)
def test_every_must_clause_is_examined_or_excluded_with_a_reason(slug):
    """Against the seed as parsed: each must / must-not clause is cited by a reviewed question or excluded."""
    refs = {c.ref for s in policy(slug).sections for c in s.clauses if c.modality in OBLIGATIONS}
    cited = {ref for q in bank(slug).questions if q.drawable for ref in q.clauses}
    excluded = bank(slug).exclusions()
    assert not refs - cited - set(excluded), f"{slug}: neither examined nor excluded: {sorted(refs - cited - set(excluded))}"
    assert set(excluded) <= refs, f"{slug}: excluded but not a must / must-not clause: {sorted(set(excluded) - refs)}"
    assert all(reason.strip() for reason in excluded.values())
