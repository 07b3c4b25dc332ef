"""Structure for a policy with no numbered sections: headings from Word styles (Markdown marks) or typography."""

import re
from dataclasses import dataclass, field

from modules.policies.parsing.lines import APPENDIX, BLANK, RULE, TEXT, Line, heading_like, text_line

_SHORT = "short lines standing alone"
_TITLE_WORDS = re.compile(r"\b(?:policy|procedures?|guidance|guidelines|code\s+of\s+conduct|protocol)\b", re.I)


@dataclass
class HeadedSection:
    """A section found by its heading: number, title and blocks of (style, text, blank-before) lines."""

    number: str
    title: str
    blocks: list[list[tuple[str, str, bool]]] = field(default_factory=list)


def _caps(text: str) -> bool:
    """True for a SHOUTED line."""
    letters = [ch for ch in text if ch.isalpha()]
    return len(letters) >= 3 and all(ch.isupper() for ch in letters)


def _next_text(lines: list[Line], index: int) -> Line | None:
    """The next non-blank line after index."""
    for line in lines[index + 1:]:
        if line.kind not in (BLANK, RULE):
            return line
    return None


def _heading_indices(lines: list[Line]) -> tuple[set[int], str]:
    """Which lines are headings, and by which sign (Word/Markdown marks, capitals or typography)."""
    marked = [i for i, line in enumerate(lines) if line.kind == TEXT and line.marked]
    if marked:
        levels = sorted({lines[i].marked for i in marked})
        top = levels[0]
        # A single top-level heading before everything else is the document's title, not a section.
        if top == 1 and sum(1 for i in marked if lines[i].marked == 1) == 1 and len(levels) > 1:
            top = levels[1]
        chosen = {i for i in marked if lines[i].marked == top}
        if len(chosen) >= 2:
            return chosen, "headings marked in the document"
    blank_before = {i for i, _ in enumerate(lines) if i == 0 or lines[i - 1].kind in (BLANK, RULE)}
    candidates = [
        i for i, line in enumerate(lines)
        if i in blank_before and heading_like(line) and (_next_text(lines, i) is not None)
        and not heading_like(_next_text(lines, i))
    ]
    shouted = {i for i in candidates if _caps(lines[i].text)}
    if len(shouted) >= 2:
        return shouted, "lines in capitals"
    short = {i for i in candidates if len(lines[i].text.split()) <= 8}
    return (short, _SHORT) if len(short) >= 2 else (set(), "")


def parse_by_headings(raws: list[str], lines: list[Line]) -> tuple[list[str], list[HeadedSection], str]:
    """Split an unnumbered policy at its headings: (front lines, sections, how headings were found)."""
    headings, sign = _heading_indices(lines)
    front: list[str] = []
    sections: list[HeadedSection] = []
    number = appendix = 0
    blank = False
    for index, (raw, line) in enumerate(zip(raws, lines, strict=True)):
        if line.kind in (BLANK, RULE):
            blank = True
            continue
        if line.kind == APPENDIX:
            appendix += 1
            sections.append(HeadedSection(f"Appendix {appendix}", line.text))
        elif index in headings and not (sign == _SHORT and not sections and _TITLE_WORDS.search(line.text)
                                        and not front_has_text(front)):
            number += 1
            sections.append(HeadedSection(str(number), line.text.strip("*_ ")))
        elif not sections:
            front.append(raw)
        else:
            text = line if line.kind == TEXT else text_line(raw)
            section = sections[-1]
            last = section.blocks[-1][-1] if section.blocks else None
            in_list = last is not None and text.style in ("bullet", "row") and (
                last[0] == text.style or last[1].endswith(":"))
            if last is None or ((blank or text.style != last[0]) and not in_list):
                section.blocks.append([])
            section.blocks[-1].append((text.style, text.text, blank))
        blank = False
    return front, sections, sign


def front_has_text(front: list[str]) -> bool:
    """True once the front matter holds a line of ordinary prose (so a later policy-named line is a heading)."""
    return any(len(line.split()) > 12 for line in front)
