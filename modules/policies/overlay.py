"""HR's structure corrections ("this line is a heading", "ignore this line" …) as a small overlay on the text read
from a source file. Pure: the overlay never changes the file; it changes which lines the parser is given.

An entry is {"op", "line" (1-based, in the text read), "text" (that line, to check it still applies),
"to" (last line, for a contents list or a title over several lines), "ref" (for a split)}.
"""

import re

from modules.policies.parsing.lines import CLAUSE, FORCED_HEADING, LETTER, SECTION, classify

OPS: dict[str, str] = {
    "heading": "This line is a section heading",
    "ignore": "Ignore this line (a page header, footer or stray text)",
    "contents": "This line, up to the line given, is a contents list",
    "merge": "This numbered line belongs to the clause before it (remove its number)",
    "split": "Start a new clause at this line, with the number given",
    "title": "This line, up to the line given, is the document's title",
}
#: The most lines a title may run over.
TITLE_LINES = 4
#: What a clause number typed for a split may look like: 4.2, 4.2.1, A.3, 101.
REF = re.compile(r"^(?:[A-Z]\.)?\d{1,3}(?:\.\d{1,3}){0,3}$")


class OverlayError(ValueError):
    """A correction that cannot apply; the message says why and names the field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


def entry(lines: list[str], op: str, line: int | None, to: int | None = None, ref: str = "") -> dict:
    """A checked overlay entry for these lines, or OverlayError saying what to fix."""
    if op not in OPS:
        raise OverlayError("Choose what is wrong with the line", field="op")
    if line is None or not 1 <= line <= len(lines):
        raise OverlayError(f"Enter a line number from 1 to {len(lines)}", field="line")
    text = lines[line - 1].strip()
    if not text:
        raise OverlayError(f"Line {line} is empty: enter the number of a line with text on it", field="line")
    found = {"op": op, "line": line, "text": text}
    if op == "contents":
        if to is None or not line <= to <= len(lines):
            raise OverlayError(f"Enter the last line of the contents list, from {line} to {len(lines)}", field="to")
        found["to"] = to
    if op == "title":
        to = line if to is None else to
        last = min(line + TITLE_LINES - 1, len(lines))
        if not line <= to <= last:
            raise OverlayError(f"Enter the last line of the title, from {line} to {last}", field="to")
        if len(" ".join(x.strip() for x in lines[line - 1:to])) > 300:
            raise OverlayError("A title is at most 300 characters: choose fewer lines", field="to")
        found["to"] = to
    if op == "split":
        ref = (ref or "").strip().rstrip(".")
        if not REF.match(ref):
            raise OverlayError("Enter the new clause's number, like 4.2 or 4.2.1", field="ref")
        found["ref"] = ref
    if op == "merge" and classify(text).kind not in (CLAUSE, SECTION, LETTER):
        raise OverlayError(f"Line {line} has no number to remove: choose a numbered line", field="line")
    return found


def _unnumbered(text: str) -> str:
    """A numbered line's words without its number."""
    line = classify(text)
    return line.text if line.kind in (CLAUSE, SECTION, LETTER) else text


def apply(text: str, overlay: list[dict]) -> tuple[str, list[dict]]:
    """The text with the corrections applied, and any entries that no longer match their line (left out)."""
    lines = text.splitlines()
    drop: set[int] = set()
    stale: list[dict] = []
    for item in overlay:
        index = item.get("line", 0) - 1
        if not 0 <= index < len(lines) or lines[index].strip() != item.get("text"):
            stale.append(item)
            continue
        op, current = item["op"], lines[index].strip()
        if op == "heading":
            words = re.sub(r"^#+\s*", "", current).strip("*_ ").rstrip(".:;,")
            lines[index] = FORCED_HEADING + words
        elif op == "ignore":
            drop.add(index)
        elif op == "contents":
            for covered in range(index, min(item.get("to", index + 1), len(lines))):
                lines[covered] = ""
        elif op == "merge":
            lines[index] = _unnumbered(current)
        elif op == "split":
            lines[index] = f"{item['ref']} {current}"
        elif op == "title":
            # A Markdown H1 is what the parser takes as the title before any other line.
            words = " ".join(x.strip() for x in lines[index:min(item.get("to", index + 1), len(lines))] if x.strip())
            lines[index] = "# " + re.sub(r"^#+\s*", "", words)
            drop.update(range(index + 1, min(item.get("to", index + 1), len(lines))))
    return "\n".join(line for i, line in enumerate(lines) if i not in drop) + "\n", stale
