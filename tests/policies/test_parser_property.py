"""Property test: random policies rendered in several real-world layouts parse back to the same tree."""

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from modules.policies.parser import parse_policy

# Plain lowercase words: no digits, no one-letter words, nothing that reads as "Appendix".
WORDS = [
    "staff", "pupils", "media", "account", "post", "share", "school", "trust", "review", "privacy",
    "consent", "manager", "report", "online", "content", "device", "password", "parents", "network",
    "images", "safety", "conduct", "message", "official", "personal", "training", "breach", "team",
]
MONTHS = ["January", "March", "June", "September", "December"]


@dataclass
class Clause:
    """An expected clause."""

    ref: str
    parent: str | None
    line: str  # text on the numbered line
    bullets: list[str] = field(default_factory=list)
    after: str = ""  # a paragraph after the bullets

    @property
    def text(self) -> str:
        """The text the parser should give back."""
        blocks = [self.line] if self.line else []
        if self.bullets:
            blocks.append("\n".join(f"- {b}" for b in self.bullets))
        if self.after:
            blocks.append(self.after)
        return "\n\n".join(blocks)


@dataclass
class Section:
    """An expected section."""

    number: str
    title: str
    clauses: list[Clause]
    appendix: str = ""  # the appendix letter for appendices


@dataclass
class Layout:
    """How a generated policy is written out."""

    dotted: bool  # "1.1." rather than "1.1"
    no_space: bool  # "1.1.1.Text" (only with dotted numbers)
    markdown: bool  # "## 1. Title" / "### 1.1 text"
    caps: bool  # "1 TITLE"
    bullet_numbers: bool  # "- 2.1 text"
    contents: bool  # a contents list (with page numbers) at the top
    appendix_ref: str  # "A.1.1", "A 1.1" or "A. 1.1"
    appendix_title_below: bool  # "APPENDIX 1" then the title on its own line


sentences = st.lists(st.sampled_from(WORDS), min_size=2, max_size=7).map(
    lambda ws: " ".join([ws[0].capitalize(), *ws[1:]]) + "."
)
titles = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(
    lambda ws: " ".join([ws[0].capitalize(), *ws[1:]])
)
bullet_lists = st.lists(
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=5).map(lambda ws: " ".join(ws) + ";"),
    max_size=3,
)


@st.composite
def clause_bodies(draw, ref, parent):
    """A clause's text: a sentence, maybe bullets, maybe a following paragraph."""
    return Clause(ref, parent, draw(sentences), draw(bullet_lists), draw(st.one_of(st.just(""), sentences)))


@st.composite
def policies(draw):
    """A random policy tree plus a layout to render it in."""
    sections = []
    for number in range(1, draw(st.integers(1, 4)) + 1):
        clauses = []
        if draw(st.booleans()):  # opening text before the first numbered clause
            clauses.append(Clause(str(number), None, draw(sentences), draw(bullet_lists)))
        for i in range(1, draw(st.integers(0, 4)) + 1):
            top = f"{number}.{i}"
            clauses.append(draw(clause_bodies(top, str(number))))
            # Lettered items hang from the numbered item just above them, so they come before 1.1.1.
            for letter in "abc"[: draw(st.integers(0, 3))]:
                clauses.append(Clause(f"{top}({letter})", top, draw(sentences)))
            for j in range(1, draw(st.integers(0, 3)) + 1):
                clauses.append(draw(clause_bodies(f"{top}.{j}", top)))
        sections.append(Section(str(number), draw(titles), clauses))
    for index in range(draw(st.integers(0, 2))):
        letter, number = "AB"[index], f"Appendix {index + 1}"
        clauses = [Clause(number, None, draw(sentences))] if draw(st.booleans()) else []
        for i in range(1, draw(st.integers(1, 3)) + 1):
            top = f"{letter}.{i}"
            clauses.append(draw(clause_bodies(top, number)))
            for j in range(1, draw(st.integers(0, 3)) + 1):
                clauses.append(draw(clause_bodies(f"{top}.{j}", top)))
        sections.append(Section(number, draw(titles), clauses, appendix=letter))
    dotted = draw(st.booleans())
    layout = Layout(
        dotted=dotted,
        no_space=dotted and draw(st.booleans()),
        markdown=draw(st.booleans()),
        caps=draw(st.booleans()),
        bullet_numbers=draw(st.booleans()),
        # A one-entry contents list is indistinguishable from a heading with no text.
        contents=len(sections) > 1 and draw(st.booleans()),
        appendix_ref=draw(st.sampled_from(["A.1.1", "A 1.1", "A. 1.1"])),
        appendix_title_below=draw(st.booleans()),
    )
    dates = {"reviewed": f"{draw(st.sampled_from(MONTHS))} {draw(st.integers(2015, 2030))}"}
    return sections, layout, dates


def _ref_text(clause: Clause, section: Section, layout: Layout) -> str:
    """How the clause's number is written in this layout."""
    if "(" in clause.ref:
        return "(" + clause.ref.split("(")[1]
    if section.appendix:
        rest = clause.ref[2:]
        if "." not in rest or layout.appendix_ref == "A.1.1":
            return f"{section.appendix}.{rest}"
        return f"{section.appendix} {rest}" if layout.appendix_ref == "A 1.1" else f"{section.appendix}. {rest}"
    return clause.ref + ("." if layout.dotted else "")


def render(sections: list[Section], layout: Layout, dates: dict[str, str]) -> str:
    """Write the policy out as text in the given layout."""
    out = [("# " if layout.markdown else "") + "Social Media Policy", "", f"Policy updated\t{dates['reviewed']}", ""]
    if layout.contents:
        out += ["Contents", ""]
        for page, section in enumerate(sections, start=2):
            label = section.number if section.appendix else f"{section.number}."
            sep = " – " if section.appendix else "\t"
            out += [f"{label}{sep}{section.title}\t{page}", ""]
    for section in sections:
        title = section.title.upper() if layout.caps else section.title
        if section.appendix:
            heading = section.number.upper() if layout.caps else section.number
            if layout.appendix_title_below:
                out += [heading, "", title, ""]
            else:
                out += [f"{heading} - {title}", ""]
        else:
            number = f"{section.number}." if layout.dotted or layout.markdown else section.number
            out += [f"{'## ' if layout.markdown else ''}{number} {title}", ""]
        for clause in section.clauses:
            if clause.ref == section.number:
                out += [clause.line, ""]
            else:
                ref = _ref_text(clause, section, layout)
                gap = "" if layout.no_space and ref.count(".") > 1 and not section.appendix else " "
                prefix = "- " if layout.bullet_numbers else ("### " if layout.markdown else "")
                out += [f"{prefix}{ref}{gap}{clause.line}", ""]
            if clause.bullets:
                out += [f"- {b}" for b in clause.bullets] + [""]
            if clause.after:
                out += [clause.after, ""]
    return "\n".join(out)


@settings(deadline=None, derandomize=True, max_examples=100)
@given(policies())
def test_rendered_policy_parses_back_to_the_same_tree(generated):
    """Sections, titles, refs, parents and texts survive rendering in any supported layout."""
    sections, layout, dates = generated
    text = render(sections, layout, dates)
    parsed = parse_policy(text)
    assert [(s.number, s.title) for s in parsed.sections] == [(s.number, s.title) for s in sections], text
    for got, want in zip(parsed.sections, sections, strict=True):
        assert [(c.ref, c.parent, c.text) for c in got.clauses] == [
            (c.ref, c.parent, c.text) for c in want.clauses
        ], text
    assert parsed.title == "Social Media Policy"
    assert set(parsed.dates) == {"reviewed"}
