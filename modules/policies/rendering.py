"""Turn a parsed section into sanitised HTML (Markdown → nh3), once, at import.

An appendix that is a blank form or a template (detected from its text, never from which trust it is) is
rendered as a read-only preview of the form: headings, fields with empty answer boxes, tick-box options and
the approval rows, instead of Markdown that would show a Word form's leftovers as raw text.
"""

import html
import math
import re

import markdown
import nh3

WORDS_PER_MINUTE = 200

#: How each modality is marked for the reader; info and may clauses carry no marker.
OBLIGATION_LABELS = {
    "must": ("Must", "pp-obligation-must"),
    "must_not": ("Must not", "pp-obligation-must-not"),
    "should": ("Should", "pp-obligation-should"),
    "should_not": ("Should not", "pp-obligation-should-not"),
}

ALLOWED_TAGS = {"p", "ul", "ol", "li", "strong", "em", "b", "i", "a", "div", "span", "table", "thead", "tbody",
                "tr", "th", "td", "br", "blockquote", "h3", "h4", "code"}
ALLOWED_ATTRIBUTES = {"*": {"class", "id"}, "a": {"href"}, "th": {"scope"}}


def clause_anchor(ref: str) -> str:
    """The HTML id of a clause, e.g. "clause-3.3.1" (spaces become hyphens)."""
    return "clause-" + re.sub(r"[^A-Za-z0-9.]+", "-", ref).strip("-")


def _tabs_to_table(text: str) -> str:
    """Runs of tab-separated lines become a Markdown table; other lines stay as they are."""
    out, rows = [], []

    def flush():
        if rows:
            width = max(len(r) for r in rows)
            cells = [r + [""] * (width - len(r)) for r in rows]
            out.append("")
            out.append("| " + " | ".join(cells[0]) + " |")
            out.append("|" + " --- |" * width)
            out.extend("| " + " | ".join(c) + " |" for c in cells[1:])
            out.append("")
            rows.clear()

    for line in text.splitlines():
        if "\t" in line.strip():
            rows.append([c.strip().replace("|", "\\|") for c in line.strip().split("\t")])
        else:
            flush()
            out.append(line)
    flush()
    return "\n".join(out)


#: Inline formatting tags a Word or HTML conversion leaves in the text, and the Markdown that keeps their emphasis.
_FORMATTING = re.compile(r"<(/?)(u|b|strong|i|em)\s*>", re.IGNORECASE)
_MARKDOWN_FOR = {"u": "**", "b": "**", "strong": "**", "i": "*", "em": "*"}
#: Any other HTML tag left in the source (e.g. <br>, <span …>, <font …>): markup, not words of the policy.
_OTHER_TAG = re.compile(r"</?(br|span|font|p|div|sup|sub|hr|o:p)\b[^<>]*>", re.IGNORECASE)


def _untag(text: str) -> str:
    """The text with conversion leftovers turned into Markdown emphasis (<u>x</u> → **x**) or dropped."""
    text = _FORMATTING.sub(lambda m: _MARKDOWN_FOR[m.group(2).lower()], text)
    return _OTHER_TAG.sub(lambda m: "\n" if m.group(1).lower() == "br" else "", text)


def _markdown(text: str) -> str:
    source = _tabs_to_table(html.escape(_untag(text), quote=False))
    return markdown.markdown(source, extensions=["tables", "sane_lists"], output_format="html")


# --------------------------------------------------------------------------- forms and templates

_APPENDIX = re.compile(r"^appendix\b", re.IGNORECASE)
_FORM_TITLE = re.compile(r"\b(form|template|checklist|pro[ -]?forma)\b", re.IGNORECASE)
_TERMINAL = (".", ":", ";", "!")
_EXAMPLE = re.compile(r"^(e\.g\.|eg\b|example\b|for example\b)", re.IGNORECASE)
#: A field label is short: this many words or fewer, with no closing full stop.
_FIELD_WORDS = 5


def _words(line: str) -> list[str]:
    return line.split()


def _is_caps_heading(line: str) -> bool:
    head = line.split("(")[0].strip()
    letters = [c for c in head if c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters)


def _is_field(line: str) -> bool:
    return line.endswith("?") or (len(_words(line)) <= _FIELD_WORDS and not line.endswith(_TERMINAL)
                                  and not line.startswith(("(", "- ")))


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.split("\t") if c.strip()]


def section_kind(number: str, title: str, clauses: list[dict]) -> str:
    """"form" for an appendix that is a blank form or a template, else "text"; judged from the words alone.

    An appendix is a form when its title says so (form, template, checklist), or when its text is mostly
    fields to fill in, or when it holds a table that is only a header row, perhaps with example rows (a
    template to copy).
    """
    if not _APPENDIX.match(number):
        return "text"
    if _FORM_TITLE.search(title or ""):
        return "form"
    lines = [line.strip() for c in clauses for line in c["text"].splitlines() if line.strip()]
    rows = [i for i, line in enumerate(lines) if len(_cells(line)) >= 2]
    # A table to copy: a header row with nothing under it, or only example rows ("e.g. …").
    template = any(len(_cells(lines[i])) >= 3 and i - 1 not in rows
                   and all(_EXAMPLE.match(lines[j]) for j in rows if j > i and set(range(i, j)) <= set(rows))
                   for i in rows)
    fields = sum(1 for line in lines if "\t" not in line and _is_field(line) and not _is_caps_heading(line))
    if template or (fields >= 5 and fields * 3 >= len(lines)):
        return "form"
    return "text"


def _inline(text: str) -> str:
    """Escaped text with conversion leftovers as emphasis, for the form preview (no Markdown blocks there)."""
    escaped = html.escape(_untag(text), quote=False)
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)


def _blank(label: str) -> str:
    return (f'<div class="pp-form-field"><span class="pp-form-label">{_inline(label)}</span>'
            f'<span class="pp-form-blank"><span class="govuk-visually-hidden">(left blank on the form)</span>'
            f'</span></div>')


def _printed(label: str, answer: str) -> str:
    return (f'<div class="pp-form-field"><span class="pp-form-label">{_inline(label)}</span>'
            f'<span class="pp-form-printed">{_inline(answer)}</span></div>')


def _title_case(line: str) -> bool:
    words = [w for w in _words(line) if w[0].isalpha()]
    return bool(words) and sum(w[0].isupper() for w in words) * 5 >= len(words) * 3


def _template_table(header: list[str], rows: list[list[str]]) -> str:
    width = len(header)
    head = "".join(f'<th class="govuk-table__header" scope="col">{_inline(c)}</th>' for c in header)
    body_rows = rows or [[""] * width]
    body = "".join("<tr class=\"govuk-table__row\">" + "".join(
        f'<td class="govuk-table__cell{" pp-form-blank-cell" if not c else ""}">{_inline(c)}</td>'
        for c in (r + [""] * (width - len(r)))[:width]) + "</tr>" for r in body_rows)
    return (f'<table class="govuk-table pp-form-table"><thead class="govuk-table__head">'
            f'<tr class="govuk-table__row">{head}</tr></thead><tbody class="govuk-table__body">{body}</tbody></table>')


def render_form(text: str) -> str:
    """A blank form's text as a read-only preview: headings, empty answer boxes, tick-box options, a template
    table; every word of the policy kept, nothing to fill in."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    out: list[str] = []
    options: list[str] = []

    def flush_options():
        if options:
            out.append('<ul class="pp-form-options">' + "".join(f"<li>{_inline(o)}</li>" for o in options) + "</ul>")
            options.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.startswith("- "):
            options.append(line[2:].strip())
            i += 1
            continue
        flush_options()
        cells = _cells(line)
        if len(cells) >= 3:  # a table: the header row and any rows of the same shape after it
            rows = []
            while i + 1 < len(lines) and len(_cells(lines[i + 1])) >= 2:
                i += 1
                rows.append(_cells(lines[i]))
            out.append(_template_table(cells, rows))
        elif len(cells) == 2:
            first, last = cells
            if first.endswith("?") or "/" in last or ";" in last or len(_words(last)) > _FIELD_WORDS:
                out.append(_printed(first, last))  # the form prints the choices, e.g. "Yes/No"
            else:  # a statement to sign, then the field for it: "<u>Line Manager</u> I approve …  Name"
                out.append(f'<p class="govuk-body pp-form-statement">{_inline(first)}</p>')
                out.append(_blank(last))
        elif _is_caps_heading(line):
            head, _, rest = line.partition("(")
            out.append(f'<h3 class="govuk-heading-s pp-form-heading">{_inline(head.strip())}</h3>')
            if rest:
                out.append(f'<p class="govuk-hint">({_inline(rest)}</p>')
        elif line.startswith("("):
            out.append(f'<p class="govuk-hint">{_inline(line)}</p>')
        elif _is_field(line) or nxt.startswith("("):
            out.append(_blank(line))
        elif not line.endswith(_TERMINAL) and len(_words(line)) <= 12 and _title_case(line):
            out.append(f'<h4 class="govuk-heading-s">{_inline(line)}</h4>')
        else:
            out.append(f'<p class="govuk-body">{_inline(line)}</p>')
        i += 1
    flush_options()
    return '<div class="pp-form-preview">' + "".join(out) + "</div>"


def render_clause(ref: str, text: str, modality: str, is_section_intro: bool, *, form: bool = False) -> str:
    """One clause as HTML with a visible, linkable ref and its obligation marker (a form preview if `form`)."""
    anchor = clause_anchor(ref)
    label = OBLIGATION_LABELS.get(modality)
    marker = f'<strong class="govuk-tag pp-obligation {label[1]}">{label[0]}</strong> ' if label else ""
    ref_link = "" if is_section_intro else f'<a class="pp-clause-ref" href="#{anchor}">{html.escape(ref)}</a> '
    body = render_form(text) if form else _markdown(text)
    return (f'<div class="pp-clause pp-clause--{modality}" id="{anchor}">'
            f'<div class="pp-clause-head">{ref_link}{marker}</div>'
            f'<div class="pp-clause-body">{body}</div></div>')


def render_section(number: str, clauses: list[dict], *, kind: str = "text") -> str:
    """A section's clauses as one sanitised HTML fragment; a "form" section is rendered as a form preview."""
    parts = [render_clause(c["ref"], c["text"], c["modality"], c["ref"] == number, form=kind == "form")
             for c in clauses]
    return sanitise("\n".join(parts))


def sanitise(fragment: str) -> str:
    """Remove anything but the tags and attributes the module pages need."""
    return nh3.clean(fragment, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes={"https", "mailto"},
                     link_rel="noopener noreferrer")


def reading_minutes(clauses: list[dict]) -> int:
    """Minutes to read the clauses at an adult's steady pace, at least one."""
    words = sum(len(c["text"].split()) for c in clauses)
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


def mark_changed(fragment: str, refs: frozenset[str] | set[str], label: str) -> str:
    """A section's stored HTML with the clauses whose refs are given marked as changed: a class for the
    highlight and a tag saying so in words (never colour alone)."""
    tag = f'<strong class="govuk-tag govuk-tag--yellow pp-changed">{html.escape(label)}</strong> '
    for ref in refs:
        anchor = re.escape(clause_anchor(ref))
        fragment = re.sub(rf'<div class="pp-clause (pp-clause--\w+)" (id="{anchor}")><div class="pp-clause-head">',
                          rf'<div class="pp-clause \1 pp-clause--changed" \2><div class="pp-clause-head">{tag}',
                          fragment, count=1)
    return fragment
