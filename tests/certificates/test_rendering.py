"""The certificate PDF: what it says, its QR code, and that rendering fetches nothing."""

import io
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest
import segno
import zxingcpp
from PIL import Image

from modules.certificates import rendering
from modules.certificates.codes import group_code, new_code
from modules.certificates.rendering import CertificateContent, html_to_pdf, qr_svg, render_certificate

ROOT = Path(__file__).resolve().parents[2]
A4_LANDSCAPE = (841.89, 595.28)  # points


def content(code: str, **changes) -> CertificateContent:
    values = dict(holder_name="Samantha O’Neill-Taylor", trust_name="The Kemnal Academies Trust",
                  academy_name="North Park Academy", policy_title="Social Media Policy", version_label="Version 1",
                  completed_on="21 November 2026", expires_on="21 November 2027", code_grouped=group_code(code),
                  verify_url=f"https://policypass.example.org/verify/{code}")
    return CertificateContent(**{**values, **changes})


@pytest.fixture
def rendered(empty_app):
    code = new_code()
    return code, render_certificate(content(code))


def page_text(pdf: bytes) -> tuple[pypdf.PdfReader, str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return reader, " ".join(reader.pages[0].extract_text().split())


def test_one_a4_landscape_page_with_every_detail(rendered):
    code, result = rendered
    assert result.pdf.startswith(b"%PDF-")
    reader, text = page_text(result.pdf)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width), 2), round(float(box.height), 2)) == A4_LANDSCAPE
    for expected in ("Certificate of completion", "Samantha O’Neill-Taylor", "The Kemnal Academies Trust",
                     "North Park Academy", "Social Media Policy", "Version 1", "Completed 21 November 2026",
                     "Expires 21 November 2027", group_code(code), "passed its scenario assessment",
                     "will comply with it", f"https://policypass.example.org/verify/{code}"):
        assert expected in text, expected
    assert len(group_code(code).split("-")) == 8


def test_paper_record_certificate_does_not_claim_an_assessment(empty_app):
    code = new_code()
    _reader, text = page_text(render_certificate(content(code, assessed=False)).pdf)
    assert "passed its scenario assessment" not in text
    assert "on a paper form recorded by the trust" in text


def test_qr_code_is_inline_svg_that_decodes_to_the_verify_url(rendered):
    code, result = rendered
    url = f"https://policypass.example.org/verify/{code}"
    # The very SVG given to WeasyPrint is inline in the HTML (no <img>, nothing to fetch) …
    assert result.qr_svg.startswith("<svg") and result.qr_svg in result.html
    assert "<img" not in result.html
    assert result.qr_svg == str(qr_svg(url))
    # … and it is the QR code of the verify URL: rasterised from the same symbol, it decodes to the URL.
    symbol = segno.make(url, error="m", micro=False)
    png = io.BytesIO()
    symbol.save(png, kind="png", scale=8, border=4)
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.getvalue())))
    assert [d.text for d in decoded] == [url]


def test_text_is_escaped_in_the_template(empty_app):
    result = render_certificate(content(new_code(), holder_name="<b>Bob</b> & Co"))
    assert "&lt;b&gt;Bob&lt;/b&gt; &amp; Co" in result.html


@pytest.mark.parametrize("html", [
    '<img src="file:///etc/hostname">',
    '<img src="http://127.0.0.1:9/x.png">',
    '<link rel="stylesheet" href="https://example.org/x.css"><p>x</p>',
    '<style>@import url("file:///etc/passwd");</style><p>x</p>',
    '<style>@font-face { font-family: X; src: url("http://127.0.0.1:9/x.woff"); } p { font-family: X }</style><p>x</p>',
])
def test_renderer_fetches_nothing(html):
    from weasyprint.urls import FatalURLFetchingError

    with pytest.raises(FatalURLFetchingError, match="fetching is disabled"):
        html_to_pdf(html)


def test_one_font_configuration_is_shared():
    html_to_pdf("<p>one</p>")
    first = rendering._weasyprint()["fonts"]
    html_to_pdf("<p>two</p>")
    assert rendering._weasyprint()["fonts"] is first


def test_weasyprint_is_imported_only_on_the_pdf_path(tmp_path):
    script = ("import sys; from app import create_app; "
              f"app = create_app({{'INSTANCE_PATH': {str(tmp_path)!r}, 'SECRET_KEY': 'x'}}); "
              "app.test_client().get('/healthz'); print('weasyprint' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert out.stdout.strip() == "False"


def test_the_qr_code_drawn_in_the_pdf_decodes_to_the_verify_url(rendered):
    """Not just the SVG we gave WeasyPrint: the symbol as drawn in the PDF, read back and decoded."""
    from tests.certificates.pdfqr import decode_qr_in_pdf

    code, result = rendered
    assert decode_qr_in_pdf(result.pdf) == [f"https://policypass.example.org/verify/{code}"]
