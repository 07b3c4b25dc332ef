"""Certificate PDFs: the template and QR code rendered here, the PDF by WeasyPrint (weasy.py) in this process,
or in a separate renderer process (renderer.py) for the Huey consumer."""

import re
from dataclasses import dataclass
from pathlib import Path

import segno
from flask import Flask, current_app
from markupsafe import Markup

from modules.certificates.weasy import _weasyprint, html_to_pdf_here  # noqa: F401 (_weasyprint: tests, benches)

#: The separate renderer process this process renders through, once use_separate_process() was called.
_separate: dict = {}


def html_to_pdf(html: str) -> bytes:
    """Render an HTML string (with inline CSS and SVG only) to PDF bytes: here, or in the separate renderer
    process when this process uses one (the Huey consumer)."""
    renderer = _separate.get("renderer")
    return renderer.pdf(html) if renderer is not None else html_to_pdf_here(html)


def use_separate_process() -> None:
    """From now on render every PDF of this process in a separate renderer process (renderer.py), started now
    and warmed, so this process never imports WeasyPrint (the Huey consumer's startup hook calls this)."""
    from modules.certificates.renderer import Renderer

    renderer = _separate.setdefault("renderer", Renderer())
    renderer.pdf("<p>PolicyPass</p>")


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
    it holds a lock."""
    html_to_pdf("<p>PolicyPass</p>")


def warm_web_worker(app: Flask) -> bool:
    """Warm WeasyPrint in a web worker only if it renders PDFs itself (CERTIFICATE_RENDERING "request" or "inline");
    with "worker" the Huey consumer renders them, and WeasyPrint would only cost this worker ~35 MB (issue 16).
    gunicorn.conf.py calls this in each worker before it takes a request; returns whether it warmed."""
    if getattr(app, "config", {}).get("CERTIFICATE_RENDERING") not in ("request", "inline"):
        return False
    warm()
    return True


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
