"""Reading uploaded files: the type comes from the bytes, and hostile or unreadable files get a clear message."""

import io
import zipfile

import pytest

from modules.policies.parser import PolicyParseError, parse_source
from modules.policies.sources import MAX_UPLOAD_BYTES, SourceError, read_source, sniff
from tests.policies.corpus_build import build_docx, build_pdf

SECTIONS = [("1", "Introduction", ["1.1 This policy applies to all staff."]),
            ("2", "Personal use", ["2.1 Staff must not contact pupils online."])]


def test_kind_comes_from_the_bytes_not_the_name():
    """A PDF, a .docx and text are told apart by their first bytes."""
    assert sniff(build_pdf("Policy", "Header", SECTIONS)) == "pdf"
    assert sniff(build_docx([("h1n", "Scope"), ("clause", "All staff.")])) == "docx"
    assert sniff(b"1 Scope\n\n1.1 All staff.\n") == "text"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64, "binary file"),
        (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "binary file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "password-protected Word file or an old-style .doc"),
        (b"PK\x03\x04" + b"\x00" * 40, "damaged"),
        (b"%PDF-1.7\n%garbage that is not a pdf\n", "damaged"),
        (b"   \n\n", "empty"),
        (b"1 Scope\n\n1.1 Caf\xe9 \xff rules\n", "not UTF-8"),
    ],
    ids=["png", "exe", "ole", "broken-zip", "broken-pdf", "empty", "latin-1"],
)
def test_wrong_or_damaged_files_are_refused_with_a_message(data, message):
    """Wrong magic, damaged archives and PDFs, empty and non-UTF-8 files: a clear SourceError, no crash."""
    with pytest.raises(SourceError, match=message):
        read_source(data)


def test_a_zip_that_is_not_a_word_document_is_refused():
    """A zip archive without word/document.xml is not a .docx."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(SourceError, match="not a Word document"):
        read_source(out.getvalue())


def test_zip_bomb_docx_is_refused_before_unpacking():
    """A .docx whose document.xml unpacks to 100 MB is refused from the archive's directory alone."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\x00" * (100 * 1024 * 1024))
    data = out.getvalue()
    assert len(data) < 1024 * 1024
    with pytest.raises(SourceError, match="zip bomb"):
        read_source(data)


def test_oversized_upload_is_refused():
    """More than the size limit is refused, whatever it contains."""
    with pytest.raises(SourceError, match="the limit is"):
        read_source(b"1 Scope\n" + b"a" * MAX_UPLOAD_BYTES)


def test_encrypted_pdf_is_refused():
    """A PDF with an opening password cannot be read and says so."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(build_pdf("Policy", "Header", SECTIONS))).pages:
        writer.add_page(page)
    writer.encrypt("s3cret", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(SourceError, match="password-protected"):
        read_source(out.getvalue())


def test_image_only_pdf_is_refused():
    """A PDF of pictures (a scan) has no text layer: refused with what to upload instead."""
    from weasyprint import HTML

    drawing = '<svg width="400" height="600"><rect width="400" height="600" fill="#ccc"/></svg>'
    pdf = HTML(string=f"<html><body>{drawing}{drawing}</body></html>").write_pdf()
    with pytest.raises(SourceError, match="scanned images"):
        read_source(pdf)


def test_parse_source_turns_refusals_into_parse_errors():
    """The parser's entry point for uploads reports unreadable files as PolicyParseError."""
    with pytest.raises(PolicyParseError, match="damaged"):
        parse_source(b"PK\x03\x04" + b"\x00" * 40)


def test_text_upload_is_parsed_as_before():
    """A .txt or .md upload is read as UTF-8 text, byte-order mark allowed."""
    policy = parse_source("\ufeffPolicy\n\n1 Scope\n\n1.1 Applies to all staff.\n".encode())
    assert policy.clause("1.1").text == "Applies to all staff."


def test_a_pdf_heading_after_a_full_width_clause_keeps_its_own_line():
    """A short unnumbered heading straight after a clause that fills the line is not glued onto that clause (it
    was, silently: "3.1 … disciplinary action. Official accounts"); the parser then asks whether it is a heading."""
    from modules.policies.sources_pdf import _unwrap

    lines = ["3.1 A breach of this policy may lead to disciplinary action and to a report.",
             "Official accounts",
             "3.2 Official accounts must be approved in writing by the Headteacher, who keeps",
             "a record of each one."]
    assert _unwrap(lines) == [lines[0], lines[1], f"{lines[2]} {lines[3]}"]
    sections = [("1", "Scope", ["1.1 This policy applies to all staff and volunteers of the trust, in every one of "
                                "its schools.",
                                "1.2 A breach of this policy may lead to disciplinary action under the procedure."]),
                ("2", "Personal use", ["2.1 Staff must not accept friend requests from pupils."])]
    data = build_pdf("Oakfield Trust Social Media Policy", "Oakfield Trust", sections, contents=False)
    glued = build_pdf("Oakfield Trust Social Media Policy", "Oakfield Trust", [
        sections[0][:2] + ([*sections[0][2], "Official accounts",
                            "1.3 Official accounts must be approved in writing by the Headteacher."],),
        sections[1]], contents=False)
    assert "Official accounts\n" not in read_source(data).text
    text = read_source(glued).text
    assert "\nOfficial accounts\n" in text
    policy = parse_source(glued)
    assert any('ends with "Official accounts", which may be a heading' in w for w in policy.warnings)


def test_a_page_footer_note_shows_the_page_number_as_n():
    """The preview's note names the footer as it runs ("Page N of 2"), not as page 1 printed it."""
    from modules.policies.sources import page_noise

    pages = [["Trust policy", "1.1 Staff must not post.", "Page 1 of 2"],
             ["Trust policy", "1.2 Staff must report.", "Page 2 of 2"]]
    kept, notes = page_noise(pages)
    assert kept == [["1.1 Staff must not post."], ["1.2 Staff must report."]]
    assert notes == ['Removed a running page header or footer repeated on every page: "Trust policy".',
                     'Removed a running page header or footer repeated on every page: "Page N of 2".']
