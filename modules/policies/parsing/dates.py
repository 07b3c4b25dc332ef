"""Find a policy's stated dates (issued, reviewed, next review) in its front matter."""

import re

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"), ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"

# Tried in order; each yields an ISO string. Month-only dates stay month-only ("2023-12").
_DATE_PATTERNS = [
    re.compile(r"\b(?P<day>\d{1,2})[/.-](?P<mon>\d{1,2})[/.-](?P<year>(?:19|20)\d\d)\b"),
    re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<mon>\d{1,2})-(?P<day>\d{1,2})\b"),
    re.compile(r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+(?P<year>(?:19|20)\d\d)\b", re.I),
    re.compile(r"\b" + _MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,\s+(?P<year>(?:19|20)\d\d)\b", re.I),
    re.compile(r"\b" + _MONTH + r",?\s+(?P<year>(?:19|20)\d\d)\b", re.I),
]

# A front-matter label says which date it is. Checked in this order: "last reviewed" must not be
# taken for "next review", and "review date" on its own means the date the next review is due.
_LABELS = [
    ("reviewed", re.compile(r"\blast\s+review", re.I), 0),
    ("next_review", re.compile(r"\bnext\b.*\breview|\breview\b.*\b(?:date|due|on)\b|\bdate\s+of\s+review"
                               r"|\bto\s+be\s+reviewed|\breview\s+by\b", re.I), 0),
    ("reviewed", re.compile(r"\breviewed\b|\bupdated\b|\brevised\b|\bamended\b", re.I), 0),
    ("issued", re.compile(r"\bissued\b|\badopted\b|\bpublished\b|\beffective\b", re.I), 0),
    # Approval counts as issue only when no issue date is stated (a re-approval is not first issue).
    ("issued", re.compile(r"\bapprov|\bratified\b", re.I), 1),
]


def parse_date(text: str) -> tuple[str, int, int] | None:
    """Return (ISO date, start, end) for the first date in text, or None."""
    for pattern in _DATE_PATTERNS:
        match = pattern.search(text)
        if not match:
            continue
        parts = match.groupdict()
        month = int(parts["mon"]) if parts.get("mon") else _MONTHS[parts["month"].lower()]
        if not 1 <= month <= 12:
            continue
        iso = f"{int(parts['year']):04d}-{month:02d}"
        if parts.get("day"):
            day = int(parts["day"])
            if not 1 <= day <= 31:
                continue
            iso += f"-{day:02d}"
        return iso, match.start(), match.end()
    return None


def extract_dates(lines: list[str]) -> dict[str, str]:
    """Pick issued / reviewed / next_review from labelled lines; a bare date line counts as issued."""
    found: dict[str, tuple[int, str]] = {}
    bare: str | None = None
    for line in lines:
        text = re.sub(r"[*_#]", "", line).strip()
        # Long lines are prose that happens to mention a date, not a label.
        if not text or len(text) > 120:
            continue
        parsed = parse_date(text)
        if not parsed:
            continue
        iso, start, end = parsed
        label = text[:start]
        if not label.strip(" \t:-–") and not text[end:].strip(" \t:-–."):
            bare = bare or iso
            continue
        for key, pattern, rank in _LABELS:
            if pattern.search(label):
                if key not in found or rank < found[key][0]:
                    found[key] = (rank, iso)
                break
    dates = {key: iso for key, (_, iso) in found.items()}
    if bare and "issued" not in dates:
        dates["issued"] = bare
    return dates
