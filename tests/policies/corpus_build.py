"""Build realistic Word and PDF policies for the corpus tests: python-docx with real heading styles and
Word list numbering, WeasyPrint with running headers, "Page N of M" footers and a paged contents list."""

import io

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import parse_xml

W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'

# One outline list: level 0 "1" (Heading 1), level 1 "1.1", level 2 "1.1.1", level 3 "(a)".
_OUTLINE = f"""<w:abstractNum {W_NS} w:abstractNumId="90">
  <w:multiLevelType w:val="multilevel"/>
  <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1"/></w:lvl>
  <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1.%2"/></w:lvl>
  <w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1.%2.%3"/></w:lvl>
  <w:lvl w:ilvl="3"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="(%4)"/></w:lvl>
</w:abstractNum>"""
_OUTLINE_NUM = f'<w:num {W_NS} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'


def _numbered(paragraph, level: int) -> None:
    """Attach the outline list at `level` to a paragraph (Word's own numbering, not typed numbers)."""
    ppr = paragraph._p.get_or_add_pPr()
    ppr.append(parse_xml(f'<w:numPr {W_NS}><w:ilvl w:val="{level}"/><w:numId w:val="90"/></w:numPr>'))


def build_docx(spec: list[tuple], header: str = "") -> bytes:
    """A .docx from (kind, text) items: title, h1, h1n (numbered Heading 1), clause/sub/letter (numbered
    levels 1-3), p, bullet, bold (a bold line standing as a heading), toc (a contents-list line), table."""
    document = Document()
    numbering = document.part.numbering_part.element
    first_num = numbering.find(parse_xml(_OUTLINE_NUM).tag)
    abstract = parse_xml(_OUTLINE)
    if first_num is not None:
        first_num.addprevious(abstract)
    else:
        numbering.append(abstract)
    numbering.append(parse_xml(_OUTLINE_NUM))
    document.styles.add_style("TOC 1", WD_STYLE_TYPE.PARAGRAPH)
    if header:
        document.sections[0].header.paragraphs[0].text = header
        document.sections[0].footer.paragraphs[0].text = "Page 1 of 3"
    for kind, *rest in spec:
        text = rest[0] if rest else ""
        if kind == "title":
            document.add_paragraph(text, style="Title")
        elif kind == "h1":
            document.add_paragraph(text, style="Heading 1")
        elif kind == "h1n":
            _numbered(document.add_paragraph(text, style="Heading 1"), 0)
        elif kind in ("clause", "sub", "letter"):
            _numbered(document.add_paragraph(text), {"clause": 1, "sub": 2, "letter": 3}[kind])
        elif kind == "bullet":
            document.add_paragraph(text, style="List Bullet")
        elif kind == "bold":
            document.add_paragraph().add_run(text).bold = True
        elif kind == "toc":
            document.add_paragraph(text, style="TOC 1")
        elif kind == "table":
            rows = rest[0]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    table.cell(r, c).text = value
        elif kind == "pagebreak":
            document.add_page_break()
        else:
            document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


_PDF_CSS = """
@page { size: A4; margin: 2.5cm 2cm;
  @top-center { content: "%(header)s"; font-size: 9pt; }
  @bottom-center { content: "Page " counter(page) " of " counter(pages); font-size: 9pt; } }
body { font-family: sans-serif; font-size: 11pt; }
h2 { break-before: page; font-size: 14pt; }
.toc a::after { content: "  " target-counter(attr(href), page); }
.toc p { margin: 0; }
"""


def build_pdf(title: str, header: str, sections: list[tuple[str, str, list[str]]], contents: bool = True) -> bytes:
    """A PDF made by WeasyPrint: title page (with a paged contents list), one page per section."""
    from weasyprint import HTML

    toc = "".join(f'<p><a href="#s{n}">{n} {heading}</a></p>' for n, heading, _ in sections) if contents else ""
    body = "".join(
        f'<h2 id="s{n}">{n} {heading}</h2>' + "".join(f"<p>{clause}</p>" for clause in clauses)
        for n, heading, clauses in sections
    )
    html = (f"<html><head><style>{_PDF_CSS % {'header': header}}</style></head><body><h1>{title}</h1>"
            f"<p>Approved by the Board of Trustees: 20 March 2024</p>"
            + (f'<div class="toc"><p>Contents</p>{toc}</div>' if contents else "") + body + "</body></html>")
    return HTML(string=html).write_pdf()
