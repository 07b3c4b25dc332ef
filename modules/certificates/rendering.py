"""PDF rendering with WeasyPrint: imported lazily (0.4 s), one FontConfiguration shared by the process
(without it memory grows ~0.2 MB per render), and a URL fetcher that fetches nothing at all."""

import re
import threading
from dataclasses import dataclass
from pathlib import Path

import segno
from flask import current_app
from markupsafe import Markup

_lock = threading.Lock()
_shared: dict = {}


class FetchRefused(Exception):
    """A document asked WeasyPrint for an external resource (network or file); none is allowed."""


def _weasyprint() -> dict:
    """WeasyPrint's classes, the shared FontConfiguration and the refusing fetcher, made once."""
    if not _shared:
        with _lock:
            if not _shared:
                import weasyprint
                from weasyprint.text.fonts import FontConfiguration
                from weasyprint.urls import FatalURLFetchingError, URLFetcher

                class NoFetch(URLFetcher):
                    """Refuses every URL: the templates carry their styles and images inline."""

                    def fetch(self, url, headers=None):
                        # Fatal, so a template that reaches out fails loudly instead of printing without it.
                        raise FatalURLFetchingError(f"fetching is disabled for PDFs: {url[:100]}")

                _shared.update(HTML=weasyprint.HTML, fetcher=NoFetch(), fonts=FontConfiguration(),
                               render=threading.Lock())
    return _shared


def html_to_pdf(html: str) -> bytes:
    """Render an HTML string (with inline CSS and SVG only) to PDF bytes."""
    wp = _weasyprint()
    with wp["render"]:  # Pango's font map is shared; one render at a time per process
        document = wp["HTML"](string=html, base_url=None, url_fetcher=wp["fetcher"])
        return document.write_pdf(font_config=wp["fonts"])


def qr_svg(url: str) -> Markup:
    """A QR code for the URL as inline SVG (no size attributes: the template sizes it)."""
    code = segno.make(url, error="m", micro=False)
    return Markup(code.svg_inline(scale=1, border=4, omitsize=True, svgclass="qr", lineclass=None,
                                  dark="#0b0c0c", light="#ffffff", title=None))


@dataclass(frozen=True)
class CertificateContent:
    """Everything a certificate shows."""

    holder_name: str
    trust_name: str
    academy_name: str
    policy_title: str
    version_label: str
    completed_on: str       # "21 November 2026"
    expires_on: str
    code_grouped: str       # "7K3M-9QXA-…"
    verify_url: str
    #: False when HR recorded the acknowledgement from a paper form without a quiz attempt.
    assessed: bool = True
    #: The trust's logo as inline SVG markup (trusts.yaml `logo`), or empty.
    logo_svg: str = ""
    #: Who signs the certificate and their role (trusts.yaml `certificate_signatory`), or empty.
    signatory_name: str = ""
    signatory_role: str = ""


@dataclass(frozen=True)
class RenderedCertificate:
    """The HTML WeasyPrint was given, the QR SVG inside it, and the PDF bytes."""

    html: str
    qr_svg: str
    pdf: bytes


def render_certificate(content: CertificateContent) -> RenderedCertificate:
    """Render the certificate template to HTML, then to an A4 landscape PDF."""
    svg = qr_svg(content.verify_url)
    template = current_app.jinja_env.get_template("certificates/pdf.html")
    html = template.render(c=content, qr=svg)
    return RenderedCertificate(html=html, qr_svg=str(svg), pdf=html_to_pdf(html))


def warm() -> None:
    """Import WeasyPrint and load its fonts now (1–3 s the first time), so no request pays for it while
    it holds a lock: gunicorn.conf.py calls this in each worker before it takes a request."""
    html_to_pdf("<p>PolicyPass</p>")


def logo_svg(logo: str | None) -> str:
    """A trust's logo file (trusts.yaml `logo`, under content/) as inline SVG markup; empty when none.

    Inline, because the renderer fetches nothing; the XML declaration and any script are dropped.
    """
    if not logo:
        return ""
    path = Path(current_app.config["CONTENT_DIR"]) / logo
    if not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"<\?xml[^>]*\?>", "", text)
    return re.sub(r"<script.*?</script>", "", text, flags=re.S | re.I).strip()
