"""Read a PDF's text layer with pypdf, page by page, without its running headers and footers."""

import io
import logging
import re

from modules.policies.sources import _MIN_TEXT_PER_PAGE, Extracted, SourceError, page_noise

_MAX_PAGES = 300


def read_pdf(data: bytes) -> Extracted:
    """The text of a PDF; SourceError for a damaged, encrypted or scanned (image-only) file."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except Exception:  # pypdf raises several types for unsupported encryption
                opened = 0
            if not opened:
                raise SourceError("This PDF is password-protected, so its text cannot be read. Save an unprotected "
                                  "copy (or the original Word file) and upload that.")
        pages = reader.pages
        if len(pages) > _MAX_PAGES:
            raise SourceError(f"This PDF has {len(pages)} pages; a policy of more than {_MAX_PAGES} pages cannot be "
                              "read. Upload the policy on its own.")
        texts = [page.extract_text() or "" for page in pages]
    except SourceError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise SourceError("This PDF is damaged and cannot be read. Open it and save or export it again as PDF, "
                          "or upload the original Word file.") from exc
    if not pages:
        raise SourceError("This PDF has no pages.")
    characters = sum(len("".join(text.split())) for text in texts)
    if characters < _MIN_TEXT_PER_PAGE * len(pages):
        raise SourceError("This PDF has no text to read: it looks like scanned images of pages. Upload the "
                          "original Word file, or a PDF exported from Word (File > Save as > PDF), not a scan.")
    pages_lines, notes = page_noise([text.splitlines() for text in texts])
    text = "\n".join("\n".join(_unwrap(lines)) for lines in pages_lines)
    return Extracted("pdf", text, notes)


_STARTS_ITEM = re.compile(r"^\s*(?:[-•*·]\s|\(?[a-z]\)\s|\d{1,3}(?:\.\d{1,3})*\.?\s|[A-Z][.\s]\s*\d|(?:section|part|appendix)\s)", re.I)


#: A short line with no closing punctuation, starting with a capital: a heading standing on its own line.
_HEADING_LIKE = re.compile(r"^[A-Z][^.;:,!?]{0,60}$")


def _stands_alone(previous: str, line: str) -> bool:
    """A short heading-like line after a finished sentence starts a new block (never glued onto a clause)."""
    return previous.endswith((".", "!", "?")) and bool(_HEADING_LIKE.match(line.strip())) \
        and len(line.split()) <= 8


def _unwrap(lines: list[str]) -> list[str]:
    """Re-join a paragraph that the page wrapped: a near-full-width line runs on into the next line (unless the
    line is a short heading after a finished sentence)."""
    width = max((len(line.rstrip()) for line in lines), default=0)
    out: list[str] = []
    for line in lines:
        previous = out[-1].rstrip() if out else ""
        if (previous and line.strip() and len(previous) >= 0.7 * width and not previous.endswith((":", ";"))
                and not _STARTS_ITEM.match(line) and not _stands_alone(previous, line)):
            out[-1] = previous + " " + line.strip()
        else:
            out.append(line)
    return out
