"""Draft banks for any parsed policy: a starting point for reviewers, never shown to staff.

Pure (no database, no Flask). Every draft question is `reviewed: false`; its quote is a sentence copied
from the clause it cites, so the draft validates against the schema and the policy's clauses.
"""

import re
from dataclasses import dataclass

from modules.policies.parser import ParsedClause, ParsedPolicy
from modules.policies.parsing.modality import classify_modality

OBLIGATIONS = ("must", "must_not")
DRAFT_NOTE = "Draft from `flask quizzes draft`: rewrite it as a real scenario, then set reviewed: true."
#: A quote longer than this is cut at a word boundary (it stays a substring of the clause).
MAX_QUOTE = 200

_MODAL_NOT = re.compile(
    r"\b(?:must\s+(?:not|never)|mustn['’]t|shall\s+not|(?:is|are)\s+not\s+(?:permitted|allowed)\s+to"
    r"|should\s+(?:not|never)|do\s+not|don['’]t)\s+(?P<action>\w.*)", re.I | re.S)
_MODAL = re.compile(
    r"\b(?:must|shall|(?:is|are)\s+required\s+to|(?:has|have)\s+to)\s+(?:always\s+|also\s+)?(?P<action>\w.*)",
    re.I | re.S)


@dataclass(frozen=True)
class ScenarioTemplate:
    """An everyday scenario and the words that show a clause governs it (every group must match)."""

    id: str
    stem: str
    keywords: tuple[str, ...]


#: The shared-core scenarios of issue 3, phrased for any trust.
SCENARIOS = (
    ScenarioTemplate("pupil-friend-request", "A pupil sends you a friend request or a direct message on your "
                     "personal social media account. What does the policy say you should do?",
                     (r"friend|request|contact|connect|follow|messag", r"pupils?|students?|learners?|child")),
    ScenarioTemplate("former-pupil-contact", "A former pupil who left last year asks to connect with you on "
                     "social media. What does the policy say?",
                     (r"former|ex-pupil|ex-student|left\s+the\s+school|leavers?", r"pupils?|students?")),
    ScenarioTemplate("parent-friend-request", "The parent of a pupil in your class sends you a friend request. "
                     "What does the policy say?", (r"parents?|carers?", r"friend|contact|connect")),
    ScenarioTemplate("pupil-photos-consent", "You want to share a photo of pupils at a school event. What does "
                     "the policy say about photos and consent?",
                     (r"photo|image|video|picture", r"consent|permission")),
    ScenarioTemplate("press-enquiry", "A journalist messages you asking for a comment about your school. What "
                     "should you do?", (r"press|journalist|newspaper|reporter|media\s+enquir",)),
    ScenarioTemplate("logo-on-profile", "You want to use your school's logo on your personal profile. What does "
                     "the policy say?", (r"logo|branding|crest",)),
    ScenarioTemplate("whatsapp-group", "Colleagues set up a WhatsApp group that includes some parents. What does "
                     "the policy say?", (r"whatsapp|group\s+chat|messaging\s+app|messaging\s+group",)),
    ScenarioTemplate("linkedin-reference", "A former colleague asks you to write a recommendation for them on "
                     "LinkedIn. What does the policy say?", (r"linkedin|references?|recommendations?|endorse",)),
    ScenarioTemplate("hacked-account", "You think your personal social media account has been hacked. What "
                     "should you do?", (r"hack|compromis|password|unauthori[sz]ed\s+access",)),
    ScenarioTemplate("disparaging-post", "You see a post by someone else that disparages your school. What "
                     "should you do?", (r"disparag|derogatory|defamat|disrepute|critici[sz]",)),
    ScenarioTemplate("personal-use-working-hours", "You want to check your personal social media during the "
                     "working day. What does the policy say?",
                     (r"personal\s+use|personal\s+social", r"working\s+(?:hours|day|time)|during\s+work|work\s+time")),
    ScenarioTemplate("official-account-setup", "You want to set up a social media account for your department or "
                     "school. What does the policy say?",
                     (r"official|on\s+behalf\s+of|business\s+use|school\s+account", r"accounts?|sites?|pages?")),
    ScenarioTemplate("wikipedia-editing", "At work you notice a mistake on the Wikipedia page about your school "
                     "and want to edit it. What does the policy say?",
                     (r"wikipedia|wiki|online\s+encyclopa|edit(?:ing)?\s+(?:online|web)",)),
)


def _sentences(text: str) -> list[str]:
    """The clause's sentences and list items, as they appear in it."""
    parts = re.split(r"(?<=[.!?;])\s+|\n+", text)
    return [p.strip(" -•*\t") for p in parts if p.strip(" -•*\t")]


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
    match = (_MODAL_NOT if forbids else _MODAL).search(sentence)
    if match:
        action = match.group("action").strip().rstrip(".;:,")
        action = action[0].lower() + action[1:]
        stem = f"Is this allowed under clause {clause.ref}? Someone chooses {'to' if forbids else 'not to'} {action}."
    else:
        stem = f"Clause {clause.ref} says: “{quote}” Is it allowed to act against this?"
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


def draft_bank(policy: ParsedPolicy, trust: str) -> dict:
    """A whole draft bank: "Is this allowed?" items, then matched scenarios; every question unreviewed."""
    questions, seen = [], set()
    for section in policy.sections:
        for clause in section.clauses:
            if clause.modality in OBLIGATIONS:
                item = allowed_item(clause, section.number)
                if item and item["id"] not in seen:
                    seen.add(item["id"])
                    questions.append(item)
    for template in SCENARIOS:
        item = scenario_item(template, policy)
        if item:
            questions.append(item)
    return {"trust": trust, "questions": questions}
