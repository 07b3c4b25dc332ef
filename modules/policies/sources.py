"""Read an uploaded policy file (.docx, .pdf, .txt, .md) into text the parser reads. Pure: no database, no Flask.

The type is decided from the bytes (magic numbers), never from the file name. Word's heading styles and
list numbering are structure, so a .docx becomes Markdown-marked text: "## 3 Personal use", "3.1 Staff must…".
Hostile files (zip bombs, encrypted or image-only PDFs, damaged files) are refused with a message saying what
to do instead.
"""

import io
import re
import zipfile
from dataclasses import dataclass, field

#: largest upload accepted, in bytes
MAX_UPLOAD_BYTES = 4 * 1024 * 1024
#: a .docx may not unpack to more than this (a zip bomb unpacks to gigabytes)
MAX_UNPACKED_BYTES = 60 * 1024 * 1024
_MAX_RATIO = 200
_MAX_MEMBERS = 2000
#: a PDF page with less text than this is treated as a scanned image
_MIN_TEXT_PER_PAGE = 25
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
KINDS = {"docx": "Word document (.docx)", "pdf": "PDF", "text": "text file"}


class SourceError(ValueError):
    """The uploaded file cannot be read as a policy; the message says why and what to do."""


@dataclass
class Extracted:
    """Text read from a source file, what kind of file it was, and notes on what reading it changed."""

    kind: str
    text: str
    notes: list[str] = field(default_factory=list)


def sniff(data: bytes) -> str:
    """The file's kind from its first bytes: "docx", "pdf" or "text"; SourceError for anything else."""
    if not data.strip():
        raise SourceError("The file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise SourceError(f"The file is {len(data) / 1048576:.1f} MB; the limit is "
                          f"{MAX_UPLOAD_BYTES // 1048576} MB. Remove images or save it as plain text.")
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return "docx"
    if data.startswith(_OLE):
        raise SourceError("This is a password-protected Word file or an old-style .doc file. Remove the password, "
                          "or open it in Word and save it as a Word Document (.docx), then upload it again.")
    if b"\x00" in data[:4096]:
        raise SourceError("This looks like a binary file (it contains NUL bytes), not a Word document, a PDF or "
                          "text. Upload the policy as .docx, .pdf, .txt or .md.")
    return "text"


def _text(data: bytes) -> str:
    """Decode a text file: UTF-8 (with or without a byte-order mark)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"The file is not UTF-8 text (undecodable byte at position {exc.start}); save the "
                          "policy as plain UTF-8 text, or upload the Word or PDF file instead.") from exc


def _check_zip(data: bytes) -> None:
    """Refuse a damaged archive or a zip bomb before anything unpacks it."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise SourceError("This binary file starts like a Word document (.docx) but is damaged and cannot be "
                          "opened. Open it in Word, save it again as .docx, and upload the new file.") from exc
    if len(members) > _MAX_MEMBERS:
        raise SourceError("This Word file has an unusually large number of parts; it cannot be read safely.")
    total = sum(m.file_size for m in members)
    if total > MAX_UNPACKED_BYTES or any(
        m.compress_size and m.file_size / m.compress_size > _MAX_RATIO and m.file_size > 1048576 for m in members
    ):
        raise SourceError("This Word file unpacks to far more data than a policy holds (it may be a 'zip bomb'); "
                          "it was not opened. Save the policy again from Word and upload that file.")
    names = {m.filename for m in members}
    if "word/document.xml" not in names:
        raise SourceError("This is a zip archive but not a Word document (.docx). Upload the policy as .docx, "
                          ".pdf, .txt or .md.")


def read_source(data: bytes) -> Extracted:
    """Read uploaded bytes into text for the parser, or raise SourceError with a clear message."""
    kind = sniff(data)
    if kind == "pdf":
        from modules.policies.sources_pdf import read_pdf

        return read_pdf(data)
    if kind == "docx":
        _check_zip(data)
        from modules.policies.sources_docx import read_docx

        return read_docx(data)
    return Extracted("text", _text(data))


def page_noise(pages: list[list[str]]) -> tuple[list[list[str]], list[str]]:
    """Drop lines at the top or bottom of pages that repeat on most pages (running headers and footers)."""
    if len(pages) < 2:
        return pages, []

    def shape(line: str) -> str:
        return re.sub(r"\d+", "#", re.sub(r"\s+", " ", line.strip())).lower()

    counts: dict[str, int] = {}
    for lines in pages:
        edge = [line for line in lines if line.strip()]
        for key in {shape(line) for line in edge[:2] + edge[-2:]}:
            counts[key] = counts.get(key, 0) + 1
    running = {key for key, n in counts.items() if n >= max(2, (len(pages) + 1) // 2) and key}
    removed: dict[str, str] = {}
    out = []
    for lines in pages:
        edge = [i for i, line in enumerate(lines) if line.strip()]
        ends = set(edge[:2] + edge[-2:])
        kept = []
        for index, line in enumerate(lines):
            if index in ends and shape(line) in running:
                removed.setdefault(shape(line), []).append(re.sub(r"\s+", " ", line.strip()))
                continue
            kept.append(line)
        out.append(kept)
    notes = [f"Removed a running page header or footer repeated on every page: \"{_varying(texts)}\"."
             for texts in removed.values()]
    return out, notes


def _varying(texts: list[str]) -> str:
    """One of a running line's texts, with the numbers that change from page to page shown as N ("Page N of 4")."""
    numbers = [re.findall(r"\d+", text) for text in texts]
    if len({len(found) for found in numbers}) != 1:
        return texts[0]
    parts = re.split(r"\d+", texts[0])
    shown = [parts[0]]
    for position, part in enumerate(parts[1:]):
        values = {found[position] for found in numbers}
        shown += ["N" if len(values) > 1 else numbers[0][position], part]
    return "".join(shown)
