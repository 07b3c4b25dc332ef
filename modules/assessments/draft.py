"""Draft banks for any parsed policy: a starting point for reviewers, never shown to staff.

Pure (no database, no Flask). Every draft question is `reviewed: false`; its quote is a sentence copied
from the clause it cites, so the draft validates against the schema and the policy's clauses.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from modules.policies.parser import ParsedClause, ParsedPolicy
from modules.policies.parsing.modality import classify_modality

OBLIGATIONS = ("must", "must_not")
DRAFT_NOTE = "Draft from `flask quizzes draft`: rewrite it as a real scenario, then set reviewed: true."
#: A quote longer than this is cut at a word boundary (it stays a substring of the clause).
MAX_QUOTE = 200

_MODAL_NOT = re.compile(
    r"\b(?:must\s+(?:not|never)|mustn['’]t|shall\s+not|(?:is|are)\s+not\s+(?:permitted|allowed)\s+to"
    r"|should\s+(?:not|never)|do\s+not|don['’]t)\s+(?P<action>\w.*)", re.I | re.S)
#: Words showing that a sentence's modal binds a person ("staff must …"), not a thing ("this policy must be …").
_PERSON = re.compile(r"\b(?:staff|employees?|you|individuals?|colleagues?|members?|workers?|teachers?|users?|they|"
                     r"everyone|anyone|all|persons?|people|governors?|volunteers?|administrators?|moderators?)\b",
                     re.I)
#: "must be made …", "must be followed …": a passive rule reads badly as something a person decides to do.
_PASSIVE = re.compile(r"be\s+(?:\w+ly\s+)?(?:\w+ed|\w+en|made|kept|done|sent|held|put|set|shown)\b", re.I)
_MODAL = re.compile(
    r"\b(?:must|shall|(?:is|are)\s+required\s+to|(?:has|have)\s+to)\s+(?:always\s+|also\s+)?(?P<action>\w.*)",
    re.I | re.S)


@dataclass(frozen=True)
class ScenarioTemplate:
    """An everyday scenario and the words that show a clause governs it (every group must match)."""

    id: str
    stem: str
    keywords: tuple[str, ...]


#: Scenario templates live in data next to this file, so adding one never needs a code change.
SCENARIOS_FILE = Path(__file__).with_name("scenarios.yaml")


def load_scenarios(path: Path = SCENARIOS_FILE) -> tuple[ScenarioTemplate, ...]:
    """The scenario templates from scenarios.yaml."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(ScenarioTemplate(e["id"], " ".join(e["stem"].split()), tuple(e["keywords"])) for e in entries)


def _sentences(text: str) -> list[str]:
    """The clause's sentences and list items (lines wrapped mid-sentence joined up again)."""
    text = re.sub(r"\n(?![ \t]*(?:[-•*]|\(?[a-z0-9]{1,3}[.)])\s)(?=[ \t]*\S)", " ", text)
    parts = re.split(r"(?<=[.!?;])(?<!i\.e\.)(?<!e\.g\.)(?<!etc\.)\s+|\n+", text)
    return [" ".join(p.strip(" -•*\t").split()) for p in parts if p.strip(" -•*\t")]


def _quote(sentence: str) -> str:
    if len(sentence) <= MAX_QUOTE:
        return sentence
    cut = sentence[:MAX_QUOTE].rsplit(" ", 1)[0]
    return cut or sentence[:MAX_QUOTE]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def _section_of(policy: ParsedPolicy) -> dict[str, str]:
    return {c.ref: s.number for s in policy.sections for c in s.clauses}


def _obligation_sentence(clause: ParsedClause) -> str | None:
    for sentence in _sentences(clause.text):
        if classify_modality(sentence) in OBLIGATIONS:
            return sentence
    return None


def allowed_item(clause: ParsedClause, section: str) -> dict | None:
    """An "Is this allowed?" question from a must / must-not clause (None if no sentence states it)."""
    sentence = _obligation_sentence(clause)
    if sentence is None:
        return None
    quote = _quote(sentence)
    forbids = classify_modality(sentence) == "must_not"
    plain = sentence.replace("*", "")  # bold markers from the source are not part of the wording
    match = (_MODAL_NOT if forbids else _MODAL).search(plain)
    # A list item that opens with the modal ("must not …") takes its subject (staff) from the lead-in.
    if (match and (match.start() == 0 or _PERSON.search(plain[:match.start()]))
            and not _PASSIVE.match(match.group("action"))):
        action = match.group("action").strip().rstrip(".;:,")
        action = action[0].lower() + action[1:]
        stem = (f"Is this allowed under clause {clause.ref}? A member of staff decides "
                f"{'to' if forbids else 'not to'} {action}.")
    else:
        stem = f"Clause {clause.ref} says: “{quote.replace('*', '')}” Is it allowed to act against this?"
    cite = f"Clause {clause.ref} says: “{quote}”"
    return {
        "id": f"draft-allowed-{_slug(clause.ref)}", "section": section, "clauses": [clause.ref], "type": "single",
        "stem": stem,
        "options": [
            {"id": "a", "text": "Yes, it is allowed.", "feedback": f"No. {cite}"},
            {"id": "b", "text": f"No. Clause {clause.ref} does not allow it.", "feedback": f"Yes. {cite}"},
            {"id": "c", "text": "The policy does not say.", "feedback": f"No. The policy covers it. {cite}"},
        ],
        "correct": ["b"], "explanation": cite, "quote": quote, "reviewed": False, "ambiguous": False,
        "note": DRAFT_NOTE,
    }


def _matches(template: ScenarioTemplate, text: str) -> int:
    """0 unless every keyword group matches; then how many keyword hits there are."""
    hits = [len(re.findall(pattern, text, re.I)) for pattern in template.keywords]
    return sum(hits) if all(hits) else 0


def scenario_item(template: ScenarioTemplate, policy: ParsedPolicy) -> dict | None:
    """The scenario matched to the clause that governs it best (None when no clause mentions it)."""
    sections = _section_of(policy)
    best, best_rank = None, None
    for position, clause in enumerate(c for s in policy.sections for c in s.clauses):
        score = _matches(template, clause.text)
        if not score:
            continue
        rank = (clause.modality in OBLIGATIONS, score, -position)
        if best_rank is None or rank > best_rank:
            best, best_rank = clause, rank
    if best is None:
        return None
    sentence = max(_sentences(best.text), key=lambda s: (_matches(template, s), -len(s)))
    quote = _quote(sentence)
    cite = f"Clause {best.ref} says: “{quote}”"
    return {
        "id": f"draft-{template.id}", "section": sections[best.ref], "clauses": [best.ref], "type": "single",
        "stem": template.stem,
        "options": [
            {"id": "a", "text": f"Do what clause {best.ref} says.", "feedback": f"Yes. {cite}"},
            {"id": "b", "text": "Nothing: the policy does not cover this.", "feedback": f"No. {cite}"},
            {"id": "c", "text": "Whatever a colleague suggests.", "feedback": f"No. {cite}"},
        ],
        "correct": ["a"], "explanation": f"{cite} A reviewer should turn this into the scenario's real answer.",
        "quote": quote, "reviewed": False, "ambiguous": False, "note": DRAFT_NOTE,
    }


def draft_bank(policy: ParsedPolicy, trust: str, scenarios: tuple[ScenarioTemplate, ...] | None = None) -> dict:
    """A whole draft bank: "Is this allowed?" items, then matched scenarios; every question unreviewed."""
    questions, seen = [], set()
    for section in policy.sections:
        for clause in section.clauses:
            if clause.modality in OBLIGATIONS:
                item = allowed_item(clause, section.number)
                if item and item["id"] not in seen:
                    seen.add(item["id"])
                    questions.append(item)
    for template in scenarios if scenarios is not None else load_scenarios():
        item = scenario_item(template, policy)
        if item:
            questions.append(item)
    return {"trust": trust, "questions": questions}
