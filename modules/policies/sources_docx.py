"""Read a Word document with python-docx, keeping its structure: heading styles become Markdown heading marks,
list numbering is worked out as Word shows it ("3.1", "(a)"), tables become tab-separated rows, and the
contents list (Word's TOC styles) is left out. Headers and footers are separate parts and never read.
"""

import io
import re

from modules.policies.sources import Extracted, SourceError

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_ROMAN = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"), (40, "xl"),
          (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]


def _roman(n: int) -> str:
    """n in lower-case Roman numerals."""
    out = ""
    for value, letters in _ROMAN:
        while n >= value:
            out += letters
            n -= value
    return out


def _format(n: int, fmt: str) -> str:
    """One level's counter as Word shows it."""
    if fmt == "lowerLetter":
        return chr(ord("a") + (n - 1) % 26)
    if fmt == "upperLetter":
        return chr(ord("A") + (n - 1) % 26)
    if fmt == "lowerRoman":
        return _roman(n)
    if fmt == "upperRoman":
        return _roman(n).upper()
    return str(n)


class _Numbering:
    """Word's list numbering: definitions from numbering.xml and the running counters."""

    def __init__(self, document):
        self.abstract_of: dict[str, str] = {}
        self.levels: dict[tuple[str, int], tuple[int, str, str]] = {}
        self.counters: dict[str, dict[int, int]] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        for num in root.iter(f"{_W}num"):
            abstract = num.find(f"{_W}abstractNumId")
            if abstract is not None:
                self.abstract_of[num.get(f"{_W}numId")] = abstract.get(f"{_W}val")
        for abstract in root.iter(f"{_W}abstractNum"):
            key = abstract.get(f"{_W}abstractNumId")
            for lvl in abstract.iter(f"{_W}lvl"):
                start, fmt, text = lvl.find(f"{_W}start"), lvl.find(f"{_W}numFmt"), lvl.find(f"{_W}lvlText")
                self.levels[(key, int(lvl.get(f"{_W}ilvl")))] = (
                    int(start.get(f"{_W}val")) if start is not None else 1,
                    fmt.get(f"{_W}val") if fmt is not None else "decimal",
                    text.get(f"{_W}val") if text is not None else "",
                )

    def label(self, num_id: str, ilvl: int) -> str | None:
        """Advance the list's counter and return the label Word shows ("2.3", "(b)"); "-" for bullets."""
        abstract = self.abstract_of.get(num_id)
        if abstract is None or num_id == "0" or (abstract, ilvl) not in self.levels:
            return None
        start, fmt, text = self.levels[(abstract, ilvl)]
        if fmt == "bullet":
            return "-"
        if fmt == "none":
            return None
        counters = self.counters.setdefault(abstract, {})
        counters[ilvl] = counters.get(ilvl, start - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]

        def level_value(match: re.Match) -> str:
            level = int(match.group(1)) - 1
            level_start, level_fmt, _ = self.levels.get((abstract, level), (1, "decimal", ""))
            return _format(counters.get(level, level_start), level_fmt)

        return re.sub(r"%(\d)", level_value, text).strip() or None


def _num_pr(paragraph) -> tuple[str, int] | None:
    """The paragraph's (numId, ilvl): its own, else its style's (following basedOn)."""
    candidates = [paragraph._p.pPr]
    style = paragraph.style
    while style is not None:
        candidates.append(style.element.pPr)
        style = style.base_style
    for ppr in candidates:
        if ppr is None:
            continue
        numpr = ppr.find(f"{_W}numPr")
        if numpr is not None:
            num_id = numpr.find(f"{_W}numId")
            ilvl = numpr.find(f"{_W}ilvl")
            if num_id is not None:
                return num_id.get(f"{_W}val"), int(ilvl.get(f"{_W}val")) if ilvl is not None else 0
    return None


def _heading_level(paragraph) -> int:
    """0 for body text; 1 for Title; n + 1 for "Heading n" (Markdown marks: # title, ## heading 1 …)."""
    style = paragraph.style
    while style is not None:
        name = (style.name or "").lower()
        if name == "title":
            return 1
        match = re.fullmatch(r"heading (\d)", name)
        if match:
            return int(match.group(1)) + 1
        style = style.base_style
    return 0


def _all_bold(paragraph) -> bool:
    """True when every run with text is bold (a heading made by typography rather than a style)."""
    runs = [run for run in paragraph.runs if run.text.strip()]
    return bool(runs) and all(run.bold for run in runs)


def _lines(document, numbering: _Numbering, notes: list[str]) -> list[str]:
    """The body as Markdown-marked lines, in document order."""
    from docx.table import Table

    out: list[str] = []
    skipped_contents = 0
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            out.append("")
            for row in block.rows:
                cells = []
                for cell in row.cells:
                    text = " ".join(cell.text.split())
                    if not cells or cells[-1] != text:  # a merged cell repeats across the columns it spans
                        cells.append(text)
                out.append("\t".join(cells))
            out.append("")
            continue
        text = " ".join(block.text.replace("\t", " ").split())
        style = (block.style.name or "").lower() if block.style is not None else ""
        if style.startswith("toc") or style == "table of figures":
            skipped_contents += 1
            continue
        if not text:
            continue
        numpr = _num_pr(block)
        label = numbering.label(*numpr) if numpr else None
        level = _heading_level(block)
        if level:
            out += ["", "#" * level + " " + (f"{label} " if label and label != "-" else "") + text, ""]
        elif label == "-":
            out.append(f"- {text}")
        elif label:
            out += ["", f"{label} {text}"]
        elif _all_bold(block) and len(text) <= 80 and not text.endswith((".", ":", ";", ",")):
            out += ["", f"#### {text}", ""]
        else:
            out += ["", text]
    if skipped_contents:
        notes.append(f"Left out Word's contents list ({skipped_contents} line(s)); section titles come from the "
                     "headings in the body.")
    return out


def read_docx(data: bytes) -> Extracted:
    """The text of a Word document, structure marked; SourceError if Word's XML cannot be read."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
        notes: list[str] = []
        lines = _lines(document, _Numbering(document), notes)
    except (PackageNotFoundError, KeyError, ValueError, SyntaxError) as exc:
        raise SourceError("This binary file starts like a Word document (.docx) but Word's content inside it cannot "
                          "be read. Open it in Word, save it again as .docx, and upload the new file.") from exc
    text = "\n".join(lines).strip()
    if not text:
        raise SourceError("This Word document has no text in its body (it may be pictures of pages). Upload a "
                          "document with the policy typed in it.")
    return Extracted("docx", text + "\n", notes)
