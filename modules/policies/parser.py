"""Turn a policy document (plain text / light Markdown, as converted from Word or PDF) into sections
and clauses. Pure: no database, no Flask. `flask policy parse --json` prints `ParsedPolicy.to_dict()`.

The parser is deliberately general: it knows about numbering, headings, contents lists and appendices,
never about a particular trust or document.
"""

import re
from dataclasses import dataclass, field
from os import PathLike

from modules.policies.parsing.checks import LOW, MEDIUM, Doubt, check_structure, name_section
from modules.policies.parsing.dates import extract_dates
from modules.policies.parsing.headings import parse_by_headings
from modules.policies.parsing.layout import prepare, three_digit_ref
from modules.policies.parsing.lines import (
    APPENDIX,
    BLANK,
    CLAUSE,
    LETTER,
    MAX_TITLE,
    RULE,
    SECTION,
    TEXT,
    Line,
    classify,
    clean_inline,
    heading_like,
    text_line,
)
from modules.policies.parsing.modality import classify_modality
from modules.policies.sources import SourceError, read_source

__all__ = ["PolicyParseError", "ParsedClause", "ParsedSection", "ParsedPolicy", "parse_policy", "parse_file",
           "parse_source"]

# A section number may skip a few (a document can lose a heading) but a bigger jump is prose.
_MAX_SECTION_GAP = 5
# A line cut mid-sentence by conversion ends with one of these; the next line continues it.
_FUNCTION_WORDS = frozenset(
    "a an and or the of to for in on at by with from as that which who than into onto".split()
)
_TITLE_WORDS = re.compile(r"\b(?:policy|procedures?|guidance|guidelines|code\s+of\s+conduct|protocol)\b", re.I)


class PolicyParseError(ValueError):
    """The text is not a policy the parser can read (empty, binary, or no numbered structure)."""


@dataclass
class ParsedClause:
    """One numbered item (or a section's unnumbered opening text) with the text that follows it."""

    ref: str
    parent: str | None
    text: str
    modality: str

    def to_dict(self) -> dict:
        """The clause as the `flask policy parse --json` shape."""
        return {"ref": self.ref, "parent": self.parent, "text": self.text, "modality": self.modality}


@dataclass
class ParsedSection:
    """A top-level section ("1".."9") or an appendix ("Appendix 1")."""

    number: str
    title: str
    clauses: list[ParsedClause] = field(default_factory=list)
    #: "high", "medium" or "low": how sure the parser is of this section's boundaries, title and refs
    confidence: str = "high"

    def to_dict(self) -> dict:
        """The section as the `flask policy parse --json` shape, plus its confidence."""
        return {"number": self.number, "title": self.title, "confidence": self.confidence,
                "clauses": [c.to_dict() for c in self.clauses]}


@dataclass
class ParsedPolicy:
    """A parsed policy: its title, sections in document order and the dates it states."""

    title: str
    sections: list[ParsedSection]
    dates: dict[str, str] = field(default_factory=dict)
    #: what a person should check: repairs made to the text and places where the parser was unsure
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The policy as the `flask policy parse --json` shape, plus "dates" and "warnings"."""
        return {
            "title": self.title,
            "sections": [s.to_dict() for s in self.sections],
            "dates": dict(self.dates),
            "warnings": list(self.warnings),
        }

    def clause(self, ref: str) -> ParsedClause | None:
        """The clause with this ref, or None."""
        for section in self.sections:
            for clause in section.clauses:
                if clause.ref == ref:
                    return clause
        return None


@dataclass
class _Draft:
    """A clause being collected: its ref, parent and the lines that belong to it."""

    ref: str
    parent: str | None
    lines: list[tuple[str, str, bool]] = field(default_factory=list)  # (style, text, blank line before)


@dataclass
class _DraftSection:
    """A section being collected."""

    number: str
    title: str
    contents_title: str
    drafts: list[_Draft] = field(default_factory=list)
    #: True when no heading opened it (its first clause was numbered into it)
    implicit: bool = False
    #: what the parser was unsure of in this section
    doubts: list[str] = field(default_factory=list)
    #: True when a person marked its heading (a structure correction)
    forced: bool = False


def _sentence_case(title: str) -> str:
    """Turn a SHOUTED title into sentence case, leaving mixed-case words (names, acronyms) alone."""
    letters = [ch for ch in title if ch.isalpha()]
    if len(letters) < 2 or sum(ch.isupper() for ch in letters) < 0.8 * len(letters):
        return title
    words = [w.lower() if w.isupper() and len(w) > 1 else w for w in title.split(" ")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _key(line: Line) -> tuple[str, str]:
    """Identity of a heading, for matching contents entries with body headings."""
    return (line.kind, line.number)


def _contents_entries(lines: list[Line]) -> tuple[set[int], dict[tuple[str, str], str], list[str]]:
    """Find contents-list lines: runs of headings with nothing between them that are repeated later.

    Returns the lines to skip, the contents title of each heading, and entries the body never repeats.
    """
    heads = [i for i, line in enumerate(lines) if line.kind in (SECTION, APPENDIX)]
    runs: list[list[int]] = []
    for i in heads:
        between = lines[runs[-1][-1] + 1:i] if runs else None
        if between is not None and all(line.kind in (BLANK, RULE) for line in between):
            runs[-1].append(i)
        else:
            runs.append([i])
    entries: set[int] = set()
    titles: dict[tuple[str, str], str] = {}
    missing: list[str] = []
    for run in runs:
        repeated = [i for i in run if any(_key(lines[j]) == _key(lines[i]) for j in heads if j > i)]
        if len(repeated) < 2:
            continue
        # Page numbers after a single space ("Introduction 2") are page numbers when most entries have one.
        paged = sum(1 for i in run if re.search(r"\s\d{1,3}$", lines[i].text)) >= max(2, 0.6 * len(repeated))
        # The list ends where a heading it already named comes round again: that is the body starting.
        seen: set[tuple[str, str]] = set()
        listed = []
        for i in run:
            if _key(lines[i]) in seen:
                break
            seen.add(_key(lines[i]))
            listed.append(i)
        for i in listed:
            if i not in repeated:
                # An entry the body never repeats: still part of the list, never a heading in the body.
                entries.add(i)
                label = "appendix" if lines[i].kind == APPENDIX else "section"
                missing.append(f"{label} {lines[i].number} (\"{lines[i].text}\")")
                continue
            entries.add(i)
            title = re.sub(r"\s\d{1,3}$", "", lines[i].text) if paged else lines[i].text
            if title:
                titles.setdefault(_key(lines[i]), title)
    return entries, titles, missing


def _title_like(line: Line) -> bool:
    """A short unnumbered line that can serve as the title of a heading that had none."""
    return (
        line.kind == TEXT and line.style == "para" and 0 < len(line.text) <= MAX_TITLE
        and not line.text.endswith((".", ":", ";", ",", "?"))
    )


class _Builder:
    """Walks classified lines in order and builds sections and clause drafts."""

    def __init__(self, contents_titles: dict[tuple[str, str], str], three_digit: bool = False):
        self.contents_titles = contents_titles
        self.three_digit = three_digit
        self.sections: list[_DraftSection] = []
        self.front: list[str] = []
        self.section_no = 0
        self.in_appendix = False
        self.draft: _Draft | None = None
        self.numbered: _Draft | None = None  # the clause lettered items hang from
        self.last_letter: str | None = None
        self.refs: set[str] = set()
        self.await_title = False
        self.blank = False
        # The last line added, when it reads as a heading: (list it sits in, its text).
        self.pending_heading: tuple[list, str] | None = None

    # -- structure -------------------------------------------------------------------------------

    def _open_section(self, number: str, title: str, key: tuple[str, str], implicit: bool = False) -> None:
        """Start a new section; the body heading names it, the contents list only checks it."""
        self.sections.append(_DraftSection(number, title, self.contents_titles.get(key, ""), implicit=implicit))
        self.draft = self.numbered = None
        self.last_letter = None
        self.refs.add(number)
        # "APPENDIX 1" alone on a line: the next short line is its title.
        self.await_title = not title

    def _open_implicit(self, number: int) -> None:
        """Open a section whose heading is missing or unnumbered; a heading-like line just before names it."""
        title = ""
        if self.pending_heading is not None:
            container, title = self.pending_heading
            container.pop()
        self.section_no = number
        self._open_section(str(number), title, (SECTION, str(number)), implicit=True)
        self.await_title = False

    def _doubt(self, message: str) -> None:
        """Note something the parser was unsure of in the current section (it lowers confidence)."""
        if self.sections:
            self.sections[-1].doubts.append(message)

    def _add_clause(self, ref: str, text: str, parent: str | None = None) -> None:
        """Start a clause in the current section; parent is the nearest ancestor that exists."""
        section = self.sections[-1]
        if parent is None:
            parent = section.number
            parts = ref.split(".")
            while len(parts) > 1:
                parts.pop()
                candidate = ".".join(parts)
                if candidate in self.refs and any(d.ref == candidate for d in section.drafts):
                    parent = candidate
                    break
        draft = _Draft(ref, parent)
        if text:
            draft.lines.append(("para", text, False))
        section.drafts.append(draft)
        self.refs.add(ref)
        self.draft = draft

    def _add_text(self, line: Line) -> None:
        """Unnumbered text joins the clause before it (or opens the section's own clause)."""
        section = self.sections[-1]
        if self.draft is None:
            self.draft = _Draft(section.number, None)
            section.drafts.insert(0, self.draft)
        self.draft.lines.append((line.style, line.text, self.blank))

    # -- dispatch --------------------------------------------------------------------------------

    def feed(self, raw: str, line: Line) -> None:
        """Consume one classified line."""
        if line.kind in (BLANK, RULE):
            self.blank = True
            return
        pending, self.pending_heading = self.pending_heading, None
        if self.await_title:
            self.await_title = False
            if _title_like(line):
                self.sections[-1].title = line.text
                self.blank = False
                return
        if self.three_digit and line.kind not in (SECTION, APPENDIX) and self._paragraph(raw, pending):
            self.blank = False
            return
        self.pending_heading = pending
        handled = {
            SECTION: self._section, APPENDIX: self._appendix, CLAUSE: self._clause, LETTER: self._letter,
        }.get(line.kind, lambda _line: False)(line)
        self.pending_heading = None
        if not handled:
            self._text(raw, line)
        self.blank = False

    def _paragraph(self, raw: str, pending: tuple[list, str] | None) -> bool:
        """A "101 Text" paragraph: a clause of the section its hundreds name."""
        found = None if self.in_appendix else three_digit_ref(raw)
        if found is None:
            return False
        ref, number, text = found
        if ref in self.refs:
            self._doubt(f"Paragraph {ref} appears twice; the second was kept as text of the paragraph before it.")
            return False
        if number != self.section_no:
            if not self.section_no < number <= self.section_no + _MAX_SECTION_GAP:
                return False
            self.pending_heading = pending
            self._open_implicit(number)
        self._add_clause(ref, clean_inline(text), parent=str(number))
        self.numbered = self.draft
        self.last_letter = None
        return True

    def _section(self, line: Line) -> bool:
        """A lone number opens a section if it follows on from the last one (outside appendices)."""
        if line.number == "+":
            # A person said this line is a heading: it opens the next section, whatever its clauses' numbers.
            self.section_no += 1
            self._open_section(str(self.section_no), line.text, (SECTION, "+"))
            self.sections[-1].forced = True
            self.in_appendix = False
            return True
        number = int(line.number)
        if self.in_appendix or not self.section_no < number <= self.section_no + _MAX_SECTION_GAP:
            return False
        self.section_no = number
        self._open_section(str(number), line.text, (SECTION, line.number))
        return True

    def _appendix(self, line: Line) -> bool:
        """An appendix heading opens an appendix section, once per appendix number."""
        number = f"Appendix {line.number}"
        if number in self.refs:
            return False
        self.in_appendix = True
        self._open_section(number, line.text, (APPENDIX, line.number))
        return True

    def _clause(self, line: Line) -> bool:
        """A numbered item becomes a clause when its ref fits where it stands and is not a repeat."""
        ref = line.number
        if ref in self.refs:
            if "." in ref and not line.bulleted:
                self._doubt(f"The numbering restarts or repeats: {ref} appears again and was kept as text of the "
                            "clause before it.")
            return False
        if ref[0].isalpha():
            if not self.in_appendix:
                return False
        elif not self.in_appendix:
            first = int(ref.split(".")[0])
            if first < self.section_no and self.sections[-1].forced:
                # Clauses after a heading a person added keep the numbers the document prints.
                self._add_clause(ref, line.text)
                self.numbered = self.draft
                self.last_letter = None
                return True
            if first != self.section_no:
                # A clause numbered into the next section when that section's heading is missing.
                if not self.section_no < first <= self.section_no + _MAX_SECTION_GAP:
                    if self.sections and "." in ref and first < self.section_no and not line.bulleted:
                        self._doubt(f"Clause {ref} is numbered into an earlier section; it was kept as text.")
                    return False
                self._open_implicit(first)
        self._add_clause(ref, line.text)
        self.numbered = self.draft
        self.last_letter = None
        return True

    def _letter(self, line: Line) -> bool:
        """"(a)", "(b)" … continue a lettered list under the current numbered clause."""
        if not self.sections:
            return False
        expected = chr(ord(self.last_letter) + 1) if self.last_letter else "a"
        if line.number != expected:
            return False
        base = self.numbered.ref if self.numbered else self.sections[-1].number
        ref = f"{base}({line.number})"
        if ref in self.refs:
            return False
        self._add_clause(ref, line.text, parent=base)
        self.last_letter = line.number
        return True

    def _text(self, raw: str, line: Line) -> None:
        """Plain text, or a numbered-looking line that did not fit the structure."""
        if line.kind != TEXT:
            line = text_line(raw)
        if not self.sections:
            self.front.append(raw)
            container = self.front
        else:
            self._add_text(line)
            container = self.draft.lines
        # Before the first section only a line marked as a heading or in capitals can head one (not a date line).
        if self.blank and heading_like(line) and (self.sections or line.marked or _sentence_case(line.text) != line.text):
            self.pending_heading = (container, line.text)


def _continues(previous_style: str, previous: str, style: str, text: str) -> bool:
    """True when a line carries on a sentence that conversion split across lines."""
    if style == "row" or previous_style == "row" or not previous:
        return False
    body = re.sub(r"^[-*]\s+", "", text).lstrip("*_")
    if not body or not previous[-1].isalnum():
        return False
    last_word = previous.rsplit(" ", 1)[-1].lower()
    if style == "bullet":
        # Only a paragraph cut mid-phrase swallows a bullet; a bullet ending "; or" is a list.
        return previous_style == "para" and last_word in _FUNCTION_WORDS and body[0].islower()
    return body[0].islower() or last_word in _FUNCTION_WORDS


def _render(lines: list[tuple[str, str, bool]]) -> str:
    """Join a clause's lines: wrapped lines re-joined, bullets and table rows grouped, paragraphs apart."""
    blocks: list[tuple[str, list[str]]] = []
    for style, text, _blank in lines:
        if blocks and _continues(blocks[-1][0], blocks[-1][1][-1], style, text):
            body = re.sub(r"^-\s+", "", text) if style == "bullet" else text
            blocks[-1][1][-1] += " " + body
        elif blocks and style in ("bullet", "row") and blocks[-1][0] == style:
            blocks[-1][1].append(text)
        else:
            blocks.append((style, [text]))
    return "\n\n".join("\n".join(block) for _, block in blocks).strip()


def _find_title(front: list[str]) -> str:
    """The document title: a Markdown H1, else the first short line naming a policy, else the first line."""
    candidates = [line.strip() for line in front if line.strip() and not re.fullmatch(r"[-*_=]{3,}", line.strip())]
    for line in candidates:
        if re.match(r"^#\s+", line):
            return _clean_title(line[1:])
    for index, line in enumerate(candidates):
        text = _clean_title(line)
        if (_TITLE_WORDS.search(text) and len(text) <= 80 and "\t" not in line and ":" not in text
                and not text.endswith(".")):
            before = _clean_title(candidates[index - 1]) if index else ""
            # A title wrapped onto a second line ("… Social Media" / "Policy") is one title.
            if len(text.split()) <= 2 and before and before[-1].isalnum() and len(before) + len(text) < 80:
                return f"{before} {text}"
            return text
    for line in candidates:
        # A run-together document: the title is the start of its first line, up to the word naming it.
        named = re.match(r"(.{3,80}?\b(?:policy|procedures?|guidance|guidelines|code of conduct|protocol))\b", line, re.I)
        if named:
            return _clean_title(named.group(1))
    return _clean_title(candidates[0]) if candidates else ""


def _clean_title(text: str) -> str:
    """Strip Markdown markers and surrounding quotes from a title line."""
    return re.sub(r"\s+", " ", re.sub(r"[#*_]", "", text)).strip(" \"“”")


def _clauses(drafts: list[_Draft]) -> list[ParsedClause]:
    """Render clause drafts into parsed clauses with their modality."""
    clauses = []
    for clause in drafts:
        body = _render(clause.lines)
        clauses.append(ParsedClause(clause.ref, clause.parent, body, classify_modality(body)))
    return clauses


def _by_headings(raw_lines: list[str], lines: list[Line], notes: list[str]) -> ParsedPolicy:
    """A policy with no numbered sections: sections from its headings, paragraphs numbered in order."""
    front, headed, sign = parse_by_headings(raw_lines, lines)
    if not headed:
        raise PolicyParseError(
            "No numbered sections or headings found: expected headings like '1 Introduction', '## 1. Scope' or "
            "'Section 1: Scope' followed by numbered clauses such as '1.1', or headings in Word's Heading styles. "
            "Number the sections, or mark the headings with Word's Heading 1 style, and upload it again."
        )
    doubts: dict[str, list[Doubt]] = {}
    sections = []
    for item in headed:
        drafts = [_Draft(f"{item.number}.{k}", item.number, block) for k, block in enumerate(item.blocks, start=1)]
        sections.append(ParsedSection(item.number, _sentence_case(item.title), _clauses(drafts)))
        doubts[item.number] = [Doubt(MEDIUM, f"{_label(item.number)}: the document does not number its paragraphs, "
                                             f"so PolicyPass numbered them {item.number}.1, {item.number}.2 … in order "
                                             f"(headings found from {sign}).")]
    warnings = notes + check_structure(sections, doubts, [])
    return ParsedPolicy(_find_title(front), sections, extract_dates(front), warnings)


def _label(number: str) -> str:
    """"Section 3" or "Appendix 1"."""
    return number if number.startswith("Appendix") else f"Section {number}"


def parse_policy(text: str) -> ParsedPolicy:
    """Parse a policy's text into sections and clauses; raise PolicyParseError if it has no structure."""
    if not text or not text.strip():
        raise PolicyParseError("The policy is empty: there is no text to parse.")
    prepared = prepare(text)
    raw_lines = prepared.lines
    lines = [classify(raw) for raw in raw_lines]
    contents, contents_titles, contents_missing = _contents_entries(lines)
    builder = _Builder(contents_titles, three_digit=prepared.three_digit)
    for index, (raw, line) in enumerate(zip(raw_lines, lines, strict=True)):
        if index in contents:
            builder.blank = True
            continue
        builder.feed(raw, line)
    if not builder.sections:
        return _by_headings(raw_lines, lines, prepared.notes)
    sections = []
    doubts: dict[str, list[Doubt]] = {}
    for draft in builder.sections:
        title, doubt = name_section(draft.number, draft.title, draft.contents_title, _sentence_case)
        found = doubts.setdefault(draft.number, [])
        if draft.implicit and draft.title:
            found.append(Doubt(MEDIUM, f"{_label(draft.number)}: its heading \"{draft.title}\" has no number; it "
                                       "was taken as the heading because the clauses after it are numbered "
                                       f"{draft.number}."))
        if doubt is not None:
            found.append(doubt)
        found.extend(Doubt(LOW, message) for message in draft.doubts)
        sections.append(ParsedSection(draft.number, title, _clauses(draft.drafts)))
    warnings = prepared.notes + check_structure(sections, doubts, contents_missing)
    return ParsedPolicy(_find_title(builder.front), sections, extract_dates(builder.front), warnings)


def parse_source(data: bytes) -> ParsedPolicy:
    """Parse an uploaded file's bytes (.docx, .pdf or UTF-8 text); PolicyParseError says what to fix."""
    try:
        extracted = read_source(data)
    except SourceError as exc:
        raise PolicyParseError(str(exc)) from exc
    policy = parse_policy(extracted.text)
    policy.warnings[:0] = extracted.notes
    return policy


def parse_file(path: str | PathLike) -> ParsedPolicy:
    """Read a policy file (.docx, .pdf or UTF-8 text) and parse it; unreadable files raise PolicyParseError."""
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        return parse_source(data)
    except PolicyParseError as exc:
        raise PolicyParseError(f"{path}: {exc}") from exc
