"""Undo what conversion from Word or PDF does to a policy's lines before they are classified.

Each step only acts on a pattern that cannot be part of a policy's wording (a "Page 2 of 6" footer, a line
repeated on every page, a document run together on one line), and reports what it did, so the parser can
say so instead of being silently wrong.
"""

import re
from dataclasses import dataclass, field

#: a document whose longest line holds this much text (and most of the document) was run together
_ONE_LINE_CHARS = 600
_PAGE_OF = re.compile(r"\bpage\s+\d{1,3}\s*(?:of|/)\s*\d{1,3}\b", re.I)
_PAGE_LINE = re.compile(r"^(?:page\s+\d{1,3}(?:\s*(?:of|/)\s*\d{1,3})?|[-–]\s*\d{1,3}\s*[-–]|\d{1,3}\s*(?:of|/)\s*\d{1,3})$",
                        re.I)
_LONE_NUMBER = re.compile(r"^\**((?:[A-Z]\s*\.\s*)?\d{1,3}(?:\.\d{1,3})*\.?)\**$")
# A candidate split point in a run-together document: a number (maybe dotted) followed by a capital.
_INLINE_REF = re.compile(r"(?:(?<=\s)|^)(\d{1,2}(?:\.\d{1,3})*)\.?\s+(?=[A-Z\"“‘(])")
_PIPE_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?$")
_THREE_DIGIT = re.compile(r"^[*_]*(\d)(\d{2})\.?[*_]*\s+[*_]*(?=[A-Z\"“‘(])")


@dataclass
class Prepared:
    """Lines ready for classification, with notes on what was changed to get them."""

    lines: list[str]
    notes: list[str] = field(default_factory=list)
    #: True when paragraphs are numbered 101, 102, 201 … (the hundreds are the section)
    three_digit: bool = False
    #: True when the whole text was run together and had to be split at its numbers
    one_line: bool = False


def _split_run_together(text: str) -> list[str] | None:
    """Split a document run together on one line at the numbers that follow on from each other."""
    lines = text.splitlines()
    longest = max(lines, key=len)
    if len(longest) < _ONE_LINE_CHARS or len(longest) < 0.6 * len(text):
        return None
    line = _PAGE_OF.sub(" ", longest)
    candidates = list(_INLINE_REF.finditer(line))
    cuts: list[int] = []
    section = 0
    for index, match in enumerate(candidates):
        number = match.group(1)
        parts = number.split(".")
        head = int(parts[0])
        if len(parts) == 1:
            # A lone number is a heading only when it is the next section and its first clause follows.
            following = next((m.group(1) for m in candidates[index + 1:] if "." in m.group(1)), "")
            if head == section + 1 and following.split(".")[0] == str(head):
                cuts.append(match.start())
                section = head
        elif head in (section, section + 1) and all(int(p) < 100 for p in parts[1:]):
            if head == section + 1:
                section = head
            cuts.append(match.start())
    if len(cuts) < 3:
        return None
    pieces = [line[start:end].strip() for start, end in zip([0, *cuts], [*cuts, len(line)], strict=True)]
    out: list[str] = []
    for piece in pieces:
        if piece:
            out += [piece, ""]
    index = lines.index(longest)
    return lines[:index] + out + lines[index + 1:]


def _drop_page_noise(lines: list[str], notes: list[str]) -> list[str]:
    """Remove "Page N of M" lines and running headers or footers that repeat through the document."""
    def shape(line: str) -> str:
        return re.sub(r"\d+", "#", re.sub(r"\s+", " ", line.strip())).lower()

    positions: dict[str, list[int]] = {}
    for index, line in enumerate(lines):
        stripped = line.strip()
        # A running header is a label, not a sentence: it never ends with a full stop or other punctuation.
        if (stripped and len(stripped) <= 100 and "\t" not in stripped and not stripped.startswith(("-", "*", "•", "|"))
                and not stripped.endswith((".", ";", ":", ",", "?", "!"))):
            positions.setdefault(shape(line), []).append(index)
    running = {
        key for key, where in positions.items()
        # On every page: three times or more, with a page of text between each (a form repeats close together).
        if len(where) >= 3 and min(b - a for a, b in zip(where, where[1:], strict=False)) >= 4
    }
    # Numbers and headings repeat by nature ("1.1" on a line of its own); they are never running headers.
    running = {key for key in running if not re.match(r"^[#*\s]*(?:[\d#]|appendix|section|part)", key)}
    out: list[str] = []
    removed_running: list[str] = []
    page_lines = 0
    for index, line in enumerate(lines):
        stripped = line.strip().strip("*")
        if "\f" in line:
            line = line.replace("\f", "")
            stripped = line.strip()
        if _PAGE_LINE.match(stripped) or (stripped and _PAGE_OF.fullmatch(stripped)):
            page_lines += 1
            continue
        if stripped and shape(line) in running:
            if stripped not in removed_running:
                removed_running.append(stripped)
            continue
        # "Page 3 of 7" glued onto a line of text by the conversion.
        if _PAGE_OF.search(line):
            page_lines += 1
            line = _PAGE_OF.sub("", line).rstrip(" -–|")
        out.append(line)
        del index
    if page_lines:
        notes.append(f"Removed {page_lines} page-number line(s) such as \"Page 2 of 6\".")
    for text in removed_running:
        notes.append(f"Removed a running page header or footer repeated on every page: \"{text}\".")
    return out


def _join_lone_numbers(lines: list[str]) -> tuple[list[str], int]:
    """Put a number that stands on a line of its own back in front of the text it numbers."""
    out: list[str] = []
    joined = 0
    index = 0
    while index < len(lines):
        match = _LONE_NUMBER.match(lines[index].strip())
        if match:
            following = index + 1
            while following < len(lines) and not lines[following].strip() and following - index <= 2:
                following += 1
            if following < len(lines) and lines[following].strip():
                nxt = lines[following].strip()
                heading = re.match(r"^(#{1,6})\s+(.*)$", nxt)
                body = heading.group(2) if heading else nxt
                if body[:1].isalpha() or body[:1] in "\"“‘(*":
                    number = match.group(1)
                    prefix = heading.group(1) + " " if heading else ""
                    out.append(f"{prefix}{number} {body}")
                    joined += 1
                    index = following + 1
                    continue
        out.append(lines[index])
        index += 1
    return out, joined


def _pipe_tables(lines: list[str]) -> list[str]:
    """Turn Markdown pipe tables into tab-separated rows (the parser's table rows)."""
    out = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("|") and stripped.endswith("|") and stripped.count("|") >= 3:
            if _PIPE_SEPARATOR.match(stripped):
                continue
            out.append("\t".join(cell.strip() for cell in stripped.strip("|").split("|")))
        else:
            out.append(line)
    return out


def _three_digit(lines: list[str]) -> bool:
    """True when most numbered paragraphs are 101, 102 … 201 (hundreds are sections, starting at 01)."""
    found = [m for m in (_THREE_DIGIT.match(line.strip()) for line in lines) if m]
    if len(found) < 4:
        return False
    hundreds = {m.group(1) for m in found}
    starts = {m.group(1) for m in found if m.group(2) == "01"}
    return len(hundreds) >= 2 and len(starts) >= 0.8 * len(hundreds)


def prepare(text: str) -> Prepared:
    """Tidy converted text into lines for the classifier, noting each repair."""
    notes: list[str] = []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    split = _split_run_together("\n".join(lines))
    one_line = split is not None
    if one_line:
        lines = split
        notes.append("The document was run together on one line; it was split at its clause numbers, so check "
                     "that every heading and clause starts where it should.")
    lines = _drop_page_noise(lines, notes)
    lines, joined = _join_lone_numbers(lines)
    if joined:
        notes.append(f"{joined} number(s) stood on a line of their own and were joined to the text after them.")
    lines = _pipe_tables(lines)
    return Prepared(lines, notes, three_digit=_three_digit(lines), one_line=one_line)


def three_digit_ref(line: str) -> tuple[str, int, str] | None:
    """For a "101 Text" paragraph: (ref "101", section 1, text); None for any other line."""
    match = _THREE_DIGIT.match(line.strip())
    if not match:
        return None
    return match.group(1) + match.group(2), int(match.group(1)), line.strip()[match.end():].strip()
