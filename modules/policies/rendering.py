"""Turn a parsed section into sanitised HTML (Markdown → nh3), once, at import."""

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
ALLOWED_ATTRIBUTES = {"*": {"class", "id"}, "a": {"href"}}


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


def _markdown(text: str) -> str:
    source = _tabs_to_table(html.escape(text, quote=False))
    return markdown.markdown(source, extensions=["tables", "sane_lists"], output_format="html")


def render_clause(ref: str, text: str, modality: str, is_section_intro: bool) -> str:
    """One clause as HTML with a visible, linkable ref and its obligation marker."""
    anchor = clause_anchor(ref)
    label = OBLIGATION_LABELS.get(modality)
    marker = f'<strong class="govuk-tag pp-obligation {label[1]}">{label[0]}</strong> ' if label else ""
    ref_link = "" if is_section_intro else f'<a class="pp-clause-ref" href="#{anchor}">{html.escape(ref)}</a> '
    return (f'<div class="pp-clause pp-clause--{modality}" id="{anchor}">'
            f'<div class="pp-clause-head">{ref_link}{marker}</div>'
            f'<div class="pp-clause-body">{_markdown(text)}</div></div>')


def render_section(number: str, clauses: list[dict]) -> str:
    """A section's clauses as one sanitised HTML fragment."""
    parts = [render_clause(c["ref"], c["text"], c["modality"], c["ref"] == number) for c in clauses]
    return sanitise("\n".join(parts))


def sanitise(fragment: str) -> str:
    """Remove anything but the tags and attributes the module pages need."""
    return nh3.clean(fragment, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes={"https", "mailto"},
                     link_rel="noopener noreferrer")


def reading_minutes(clauses: list[dict]) -> int:
    """Minutes to read the clauses at an adult's steady pace, at least one."""
    words = sum(len(c["text"].split()) for c in clauses)
    return max(1, math.ceil(words / WORDS_PER_MINUTE))
