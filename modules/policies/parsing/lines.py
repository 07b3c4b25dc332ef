"""Classify each source line of a policy: heading, numbered clause, lettered item or plain text."""

import re
from dataclasses import dataclass

#: kinds of line
BLANK, RULE, SECTION, APPENDIX, CLAUSE, LETTER, TEXT = (
    "blank", "rule", "section", "appendix", "clause", "letter", "text"
)

_MD_HEADING = re.compile(r"^(#{1,6})\s+")
_BULLET = re.compile(r"^[-*•·]\s+")
# Converted documents leave stray glyphs before a number or word (e.g. a Greek letter in a
# contents list); they carry no meaning for classification.
_LEADING_JUNK = re.compile(r"^[^A-Za-z0-9(\[]+")
# Tolerates the spacing/spelling damage conversion does to the word ("A pendix", "Appendix").
_APPENDIX = re.compile(r"^(?:a\s*pp?\s*endix|annex)\s+(\d{1,2}|[A-Z])\b\.?\s*(.*)$", re.I)
# "A.1.1", "A 3.2", "A. 1.8", "A 4.11": an appendix letter then a number. With a space only
# (no dot) we require two levels so prose like "A 24 hour ..." is not taken for a clause.
_APPENDIX_REF = re.compile(r"^([A-Z])(\s*\.\s*|\s+)(\d{1,2}(?:\.\d{1,3})*)\.?(?:\s+|(?=[A-Z*]))(.*)$")
# "1", "2.", "1.1", "1.1.1.", even "1.1.1.Social" with no space; years and times never match.
_NUMBER = re.compile(r"^(\d{1,2}(?:\.\d{1,3})*)\.?(?:\s+|(?=[A-Za-z*\"“‘'(]))(.*)$")
_LETTER = re.compile(r"^\(([a-z])\)\s+(.*)$")
# "Section 3: Personal use", "PART 2 – STAFF CONDUCT": a word, then the section number, then its title.
_SECTION_WORD = re.compile(r"^(?:section|part)\s+(\d{1,2})\b\.?\s*(.*)$", re.I)
# "1.0 PURPOSE": a section heading written as the zeroth clause of its section.
_POINT_ZERO = re.compile(r"^(\d{1,2})\.0\.?\s+(.*)$")
# A contents list puts a page number after the title, behind a tab, spaces or dot leaders.
_PAGE_NUMBER = re.compile(r"(?:\t+|\s{2,}|\.{2,}\s*)\d{1,3}\s*$")
_TITLE_SEPARATOR = re.compile(r"^[-–—:.]\s*")

#: longest text that can still be a heading title
MAX_TITLE = 120
#: marks a line a person said is a section heading (a structure correction); the parser opens the next section
FORCED_HEADING = "\x1eheading\x1e "


@dataclass
class Line:
    """One classified source line."""

    kind: str
    #: for headings the section number ("3") or appendix number ("1"); for clauses the normalised ref
    number: str = ""
    #: heading title, clause text, or the cleaned text of a plain line
    text: str = ""
    #: "bullet", "row" (tab-separated table row) or "para" for TEXT lines
    style: str = "para"
    #: True when the line had a page number after its title (a contents-list entry)
    paged: bool = False
    #: True when the numbered item was written as a bullet ("- 2.1. ...")
    bulleted: bool = False
    #: for TEXT lines: the Markdown heading level the line was marked with (0: none)
    marked: int = 0


def clean_inline(text: str) -> str:
    """Collapse runs of spaces and drop an unmatched trailing "]" left by conversion."""
    text = re.sub(r"[ \u00a0]{2,}", " ", text.replace("\u00a0", " ")).strip(" ")
    if text.endswith("]") and text.count("]") > text.count("["):
        text = text[:-1].rstrip()
    return text


def _unwrap_bold(text: str) -> str:
    """Remove a bold marker that opens the line and its partner ("**3. Use**" -> "3. Use")."""
    if text.startswith("**"):
        rest = text[2:]
        closing = rest.find("**")
        return rest if closing < 0 else rest[:closing] + rest[closing + 2:]
    return text


def text_line(raw: str) -> Line:
    """A plain line: bullet, table row or paragraph text, tidied."""
    stripped = raw.strip()
    if "\t" in stripped:
        cells = [clean_inline(cell) for cell in stripped.split("\t")]
        while cells and not cells[-1]:
            cells.pop()
        return Line(TEXT, text="\t".join(cells), style="row")
    bullet = _BULLET.match(stripped)
    if bullet:
        return Line(TEXT, text="- " + clean_inline(stripped[bullet.end():]), style="bullet")
    heading = _MD_HEADING.match(stripped)
    return Line(TEXT, text=clean_inline(_MD_HEADING.sub("", stripped)), style="para",
                marked=len(heading.group(1)) if heading else 0)


def _heading_title(rest: str) -> tuple[str, bool] | None:
    """Split a heading's remainder into (title, had page number); None when it reads as prose."""
    paged = bool(_PAGE_NUMBER.search(rest)) and bool(rest.strip())
    title = _PAGE_NUMBER.sub("", rest) if paged else rest
    title = clean_inline(_TITLE_SEPARATOR.sub("", title.replace("\t", " ").strip()))
    title = title.strip("*").strip()
    if len(title) > MAX_TITLE or (title and not (title[0].isupper() or title[0].isdigit())):
        return None
    if title.endswith((".", ";", ",")) and not paged:
        return None
    return title, paged


def classify(raw: str) -> Line:
    """Classify one raw source line."""
    stripped = raw.strip()
    if not stripped:
        return Line(BLANK)
    if raw.startswith(FORCED_HEADING):
        return Line(SECTION, number="+", text=clean_inline(raw[len(FORCED_HEADING):]))
    if re.fullmatch(r"[-*_=]{3,}", stripped):
        return Line(RULE)
    probe = _MD_HEADING.sub("", stripped)
    bullet = _BULLET.match(probe)
    if bullet:
        probe = probe[bullet.end():]
    probe = _LEADING_JUNK.sub("", _unwrap_bold(probe))

    appendix = _APPENDIX.match(probe)
    if appendix and not bullet:
        rest = appendix.group(2)
        heading = _heading_title(rest) if rest else ("", False)
        if heading is not None:
            return Line(APPENDIX, number=appendix.group(1).upper(), text=heading[0], paged=heading[1])

    appendix_ref = _APPENDIX_REF.match(probe)
    if appendix_ref and ("." in appendix_ref.group(2) or "." in appendix_ref.group(3)):
        letter, _, number, text = appendix_ref.groups()
        return Line(CLAUSE, number=f"{letter}.{number}", text=clean_inline(text), bulleted=bool(bullet))

    worded = None if bullet else (_SECTION_WORD.match(probe) or _POINT_ZERO.match(probe))
    if worded:
        heading = _heading_title(worded.group(2))
        if heading is not None and heading[0]:
            return Line(SECTION, number=str(int(worded.group(1))), text=heading[0], paged=heading[1])

    numbered = _NUMBER.match(probe)
    if numbered:
        number, text = numbered.groups()
        if "." in number:
            return Line(CLAUSE, number=number, text=clean_inline(text), bulleted=bool(bullet))
        # A lone number starts a section only when it is not a list bullet and reads as a title.
        heading = None if bullet else _heading_title(text)
        if heading is not None:
            return Line(SECTION, number=number, text=heading[0], paged=heading[1])

    letter = _LETTER.match(probe)
    if letter:
        return Line(LETTER, number=letter.group(1), text=clean_inline(letter.group(2)), bulleted=bool(bullet))
    return text_line(raw)


def heading_like(line: Line) -> bool:
    """A plain line that reads as an unnumbered heading: marked as one, or short with no closing stop."""
    if line.kind != TEXT or line.style != "para" or not line.text:
        return False
    text = line.text.strip("*_ ")
    if not text or len(text) > 80 or text.endswith((".", ":", ";", ",", "?", "!")) or not text[0].isupper():
        return False
    return bool(line.marked) or len(text.split()) <= 10
