"""Name sections and judge how sure the parser can be of them: a parse is never silently wrong."""

import re
from dataclasses import dataclass

#: a section holding more than this share of a document's words (and at least _LONG_WORDS) is suspicious
_LONG_SHARE = 0.6
_LONG_WORDS = 1000
_LONG_CLAUSE_WORDS = 700
LOW, MEDIUM = "low", "medium"


@dataclass
class Doubt:
    """Something the parser was unsure of, and how much it lowers confidence in its section."""

    level: str
    message: str


def _words(title: str) -> list[str]:
    """A title's words, lower-cased, possessives and plurals folded, for comparing two spellings."""
    words = re.findall(r"[a-z0-9]+", title.lower().replace("’", "'").replace("'s", "").replace("'", ""))
    return [w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words]


def _in_order(short: list[str], long: list[str]) -> bool:
    """True when every word of `short` appears in `long`, in the same order."""
    position = 0
    for word in short:
        try:
            position = long.index(word, position) + 1
        except ValueError:
            return False
    return True


def _shouted(text: str) -> bool:
    """True when a heading is in capitals (its own capitalisation is lost)."""
    letters = [ch for ch in text if ch.isalpha()]
    return len(letters) >= 2 and sum(ch.isupper() for ch in letters) >= 0.8 * len(letters)


def name_section(number: str, heading: str, contents: str, calm) -> tuple[str, Doubt | None]:
    """The section's title from its body heading; the contents list checks it.

    The contents entry is used only where it says more than the body: the body heading is a shortened form
    of it, or the body heading is in capitals (which loses names' capitals); any disagreement is a doubt.
    `calm` turns a SHOUTED heading into sentence case.
    """
    body = calm(heading)
    if not body:
        if contents:
            return contents, Doubt(MEDIUM, f"{_label(number)}: the body has no heading; the title "
                                           f"\"{contents}\" comes from the contents list.")
        return "", Doubt(MEDIUM, f"{_label(number)} has no heading: give it a title.")
    if not contents:
        return body, None
    body_words, contents_words = _words(body), _words(contents)
    if body_words == contents_words:
        # The same heading; the contents list's spelling keeps capitals a SHOUTED body heading lost.
        return contents, None
    if body_words and _in_order(body_words, contents_words):
        return contents, Doubt(MEDIUM, f"{_label(number)}: the body heading \"{body}\" is a shorter form of the "
                                       f"contents list's \"{contents}\"; the fuller title is used.")
    if _shouted(heading):
        return contents, Doubt(MEDIUM, f"{_label(number)}: the contents list calls it \"{contents}\" but the body "
                                       f"heading says \"{heading}\"; the contents list's wording is used because "
                                       "the heading is in capitals. Check which is right.")
    return body, Doubt(MEDIUM, f"{_label(number)}: the contents list calls it \"{contents}\" but the body heading "
                               f"says \"{body}\"; the body heading is used.")


def _word_count(section) -> int:
    """Words in a parsed section's clauses."""
    return sum(len(clause.text.split()) for clause in section.clauses)


def check_structure(sections: list, doubts: dict[str, list[Doubt]], contents_missing: list[str]) -> list[str]:
    """Warnings for the whole parse; sets each section's confidence from its doubts."""
    warnings: list[str] = []
    if contents_missing:
        warnings.append("The contents list names " + ", ".join(contents_missing) + " but the body has no such "
                        "heading: a heading may have been missed or read as text.")
    numbers = [int(s.number) for s in sections if s.number.isdigit()]
    for previous, current in zip(numbers, numbers[1:], strict=False):
        for missing in range(previous + 1, current):
            warnings.append(f"Section {missing} is missing (the sections go from {previous} to {current}): "
                            "check whether its heading was read as text.")
            doubts.setdefault(str(current), []).append(Doubt(MEDIUM, f"Section {missing} before it is missing."))
    total = sum(_word_count(s) for s in sections) or 1
    for section in sections:
        words = _word_count(section)
        if words >= _LONG_WORDS and (len(sections) == 1 or words > _LONG_SHARE * total):
            doubts.setdefault(section.number, []).append(Doubt(LOW, (
                f"{_label(section.number)} is implausibly long ({words} of the document's {total} words): a heading "
                "may have been missed, so check where it ends.")))
        for clause in section.clauses:
            last = clause.text.split("\n\n")[-1]
            if clause.text != last and _heading_shaped(last):
                doubts.setdefault(section.number, []).append(Doubt(MEDIUM, (
                    f"Clause {clause.ref} ends with \"{last}\", which may be a heading of its own: if it is, "
                    "mark its line as a section heading.")))
            if len(clause.text.split()) >= _LONG_CLAUSE_WORDS:
                doubts.setdefault(section.number, []).append(Doubt(LOW, (
                    f"Clause {clause.ref} is implausibly long ({len(clause.text.split())} words): numbered items "
                    "inside it may have been missed.")))
    for section in sections:
        found = doubts.get(section.number, [])
        levels = {d.level for d in found}
        section.confidence = "low" if LOW in levels else "medium" if found else "high"
        warnings.extend(d.message for d in found)
    return warnings


def _heading_shaped(paragraph: str) -> bool:
    """A clause's closing paragraph that reads like a heading someone typed as body text ("Official accounts.")."""
    words = paragraph.split()
    return (0 < len(words) <= 5 and "\n" not in paragraph and "\t" not in paragraph and paragraph[0].isupper()
            and not paragraph.startswith(("-", "*")) and not paragraph.rstrip(".").endswith((":", ";", ",", "?"))
            and paragraph.count(".") <= 1 and (paragraph.endswith(".") or paragraph[-1].isalnum()))


def _label(number: str) -> str:
    """"Section 3" or "Appendix 1"."""
    return number if number.startswith("Appendix") else f"Section {number}"
