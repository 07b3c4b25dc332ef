"""Say only what the policy says: every clause ref shown next to a rule exists in that trust's policy, and
every quotation the UI shows (in “curly quotes”, or a minimum's words) is in the clause it cites.

Reads content/trusts.yaml and parses each trust's policy files (every version listed), no database needed.
"""

import re
from pathlib import Path

import pytest
import yaml

from modules.people.rules import TrustRules
from modules.policies.parser import parse_file

CONTENT = Path(__file__).resolve().parents[2] / "content"
SETTINGS = yaml.safe_load((CONTENT / "trusts.yaml").read_text(encoding="utf-8"))
TRUSTS = {t["slug"]: t for t in SETTINGS["trusts"]}
#: A clause ref written in running text, e.g. "4.4.2", "A.3.2", "Appendix 2".
REF_IN_TEXT = re.compile(r"\b(?:Appendix \d+|[A-Z]\.\d+(?:\.\d+)*|\d+\.\d+(?:\.\d+)*)\b")
QUOTED = re.compile(r"“([^”]+)”")
#: Request-form fields the app adds to hold what the form asks for in brackets (ages, school names, details).
APP_FIELDS = {"audience_details", "contributors_details"}


def _rules(slug: str) -> TrustRules:
    return TrustRules.from_mapping(TRUSTS[slug].get("rules"))


def _policies(slug: str) -> list[dict[str, str]]:
    """Each listed version of the trust's policy as {ref: text}."""
    found = []
    for version in TRUSTS[slug]["policy"]["versions"]:
        policy = parse_file(CONTENT / version["file"])
        found.append({c.ref: c.text for s in policy.sections for c in s.clauses})
    return found


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _cited(rules: TrustRules) -> list[tuple[str, list[str], str]]:
    """(where, refs, text shown with them) for every rule that cites clauses."""
    cited = [(key, [ref], "") for key, ref in rules.clause_refs()]  # every ref the rules hold, whatever the rule
    for index, step in enumerate(rules.approval_chain):
        cited.append((f"approval_chain[{index}]", list(step.clauses), step.inferred or ""))
    note = rules.credentials_note
    cited.append(("credentials_note", list(note.clauses), note.text or ""))
    for index, rule in enumerate(rules.forbidden_requests):
        cited.append((f"forbidden_requests[{index}]", [rule.clause], rule.message or ""))
    for role, source in rules.minimum_sources.items():
        cited.append((f"minimum_sources.{role}", [source.clause], f"“{source.words}”"))
    return cited


@pytest.mark.parametrize("slug", sorted(TRUSTS))
def test_every_cited_clause_exists_and_every_quote_is_in_it(slug):
    rules = _rules(slug)
    for policy in _policies(slug):
        for where, refs, text in _cited(rules):
            for ref in refs:
                assert ref in policy, f"{slug} {where}: clause {ref} is not in the policy"
            # A ref named in the text shown must be one the rule cites (and so exist).
            for ref in REF_IN_TEXT.findall(text):
                assert ref in policy, f"{slug} {where}: the text names clause {ref}, which is not in the policy"
            for quote in QUOTED.findall(text):
                assert any(_flat(quote) in _flat(policy[ref]) for ref in refs if ref in policy), \
                    f"{slug} {where}: “{quote}” is not in {', '.join(refs)}"


@pytest.mark.parametrize("slug", sorted(TRUSTS))
def test_a_rule_with_no_clause_is_labelled_a_trust_setting(slug):
    """Chain steps without a clause, and inferred approvers, say they are a trust setting; a minimum without
    a source is shown as a trust setting by the templates (see test_minimums)."""
    rules = _rules(slug)
    for step in rules.approval_chain:
        if not step.clauses:
            assert step.inferred, f"{slug}: step {step.label} cites no clause and is not labelled"
        if step.inferred:
            assert "trust setting" in step.inferred.lower(), f"{slug}: {step.inferred!r}"
    for role, required in rules.minimums.items():
        if required:
            assert role in rules.minimum_sources, f"{slug}: minimum {role}s has no clause"


def test_tasmat_73_names_nobody_so_the_headteacher_is_a_trust_setting():
    step = _rules("tasmat").approval_chain[0]
    assert "names only the Headteacher" not in step.inferred
    assert "appropriate authorisation" in step.inferred and "trust setting" in step.inferred
    for policy in _policies("tasmat"):
        assert "Headteacher" not in policy["7.3"]


def test_the_tsat_form_uses_the_seeds_words():
    """Every question and choice of TSAT's online Appendix 2 form is worded as the seed's form is."""
    form = _rules("tsat").request_form
    [policy] = _policies("tsat")
    seed = _flat(policy["Appendix 2"]).lower()
    for field in form.fields:
        if field.key not in APP_FIELDS:
            assert _flat(field.label).lower() in seed, field.label
        for choice in field.choices:
            assert _flat(choice).lower() in seed, choice
        for quote in re.findall(r"\(([^)]*must[^)]*)\)", field.hint or ""):
            assert _flat(quote).lower() in seed, quote
    consent = next(f for f in form.fields if f.key == "consent")
    assert "children or adults with learning disabilities" in consent.label
    assert "under 13" not in consent.label
