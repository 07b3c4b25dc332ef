"""Classify a clause's force (must / must_not / should / should_not / may / info) from its wording."""

import re

MODALITIES = ("must", "must_not", "should", "should_not", "may", "info")

# Wording that forbids outright. "cannot" is handled separately because it is often descriptive.
_MUST_NOT = re.compile(
    r"""\bmust\s+(?:not|never)\b
    | \bmustn['’]t\b
    | \bshall\s+not\b
    | \b(?:is|are|be)\s+(?:not|never)\s+(?:permitted|allowed)\b
    | \bnever\s+permitted\b
    | \bnot\s+allowed\b
    | \bprohibited\b | \bforbidden\b
    | \b(?:does|do|will)\s+not\s+permit\b
    | \bthere\s+will\s+be\s+no\b
    | \bwill\s+not\b
    | (?:^|[.;:!?]\s+|\n-\s+)(?:do\s+not|don['’]t|never)\b
    """,
    re.I | re.X,
)
# "cannot" forbids ("administrators cannot share logins") unless it reports a fact after "that"
# ("be aware that they cannot control ...").
_CANNOT = re.compile(r"\b(?:cannot|can\s+not)\b", re.I)
_THAT_CANNOT = re.compile(r"\bthat\s+\w+\s+(?:cannot|can\s+not)\b", re.I)

_MUST = re.compile(
    r"""\bmust\b
    | \bshall\b
    | \b(?:is|are|be|been)\s+(?:also\s+|\w+ly\s+)?required\s+to\b
    | \b(?:has|have)\s+to\b
    | \b(?:is|are)\s+obliged\s+to\b
    | \b(?:can|may)\s+only\b
    | \bwill\s+(?:ensure|adhere|comply|provide|follow|maintain|keep|need)\b
    """,
    re.I | re.X,
)
_SHOULD_NOT = re.compile(
    r"""\bshould\s+(?:not|never)\b
    | \bshouldn['’]t\b
    | \bought\s+not\b
    | \badvised\s+not\s+to\b
    | \brefrain\b
    | (?:^|[.;:!?]\s+|\n-\s+|\bshould\s+)avoid\b
    """,
    re.I | re.X,
)
_SHOULD = re.compile(
    r"""\bshould\b
    | \bought\s+to\b
    | \b(?:strongly\s+)?advised\b
    | \brecommended\b
    | \bencouraged\b
    | \bexpected\s+to\b
    """,
    re.I | re.X,
)
_MAY = re.compile(
    r"""\bmay\b | \bcan\b | \bmight\b
    | (?<!not\s)\b(?:permitted|allowed)\b
    | \breserves?\s+the\s+right\b
    """,
    re.I | re.X,
)


# An organisation's promise about what it will (not) do itself ("The Trust will not search applicants") is
# not a duty on staff, so its "will" / "will not" carries no force.
_ORGANISATION_WILL = re.compile(
    r"\b(?:the\s+(?:trust|academy|school|federation|organisation|employer|company|council)|we)\s+will\b(?:\s+not\b)?",
    re.I,
)
# A lead sentence that introduces a list ("provide the following detail:") governs the list after it.
_LEAD = re.compile(r"(?P<lead>[^\n]*?):[ \t]*\n(?:[ \t]*\n)?[ \t]*-\s")
# An imperative instruction opening a lead, possibly after an introductory phrase ("In your email, provide").
_DIRECTIVE = re.compile(r"(?:^|,\s+)(?:provide|include|ensure|inform|tell|send|report|notify|contact|give)\b", re.I)


def _plain(text: str) -> str:
    """Drop Markdown emphasis so "**must not**" reads as "must not"."""
    return re.sub(r"[*_]{1,3}", "", text)


def _forbids_with_cannot(text: str) -> bool:
    """True when some "cannot" in the text is a prohibition rather than a reported fact."""
    return len(_CANNOT.findall(text)) > len(_THAT_CANNOT.findall(text))


def classify_modality(text: str) -> str:
    """Return the clause's force: a lead that introduces a list decides it when it has one (an imperative lead
    such as "provide the following detail:" is a must); otherwise the strongest force the text expresses,
    where within a force a prohibition wins. An organisation's promise about itself is not a staff duty."""
    plain = _ORGANISATION_WILL.sub(" ", _plain(text))
    lead = _LEAD.match(plain)
    if lead:
        force = _strongest(lead.group("lead"))
        if force != "info":
            return force
        if _DIRECTIVE.search(lead.group("lead")):
            return "must"
    return _strongest(plain)


def _strongest(plain: str) -> str:
    """The strongest force the text expresses; within a force a prohibition wins."""
    if _MUST_NOT.search(plain) or _forbids_with_cannot(plain):
        return "must_not"
    if _MUST.search(plain):
        return "must"
    if _SHOULD_NOT.search(plain):
        return "should_not"
    if _SHOULD.search(plain):
        return "should"
    if _MAY.search(plain):
        return "may"
    return "info"
