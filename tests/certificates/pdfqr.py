"""Read the QR code out of a certificate PDF itself, without a PDF rasteriser (poppler is not installed).

WeasyPrint draws segno's inline SVG as stroked horizontal segments, one per run of dark modules, each at
the middle of its row (y = row + 0.5) in the symbol's own units. Painting those runs back onto a grid gives
the symbol, which zxing-cpp then decodes like any scanned image.
"""

import io

import pypdf
from PIL import Image, ImageDraw
from pypdf.generic import ContentStream


def qr_segments(pdf: bytes) -> list[tuple[float, float, float]]:
    """(x1, x2, y) of every horizontal move-to/line-to segment on the first page, in path units."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    operations = ContentStream(reader.pages[0].get_contents(), reader).operations
    segments, position = [], None
    for args, operator in operations:
        if operator == b"m":
            position = (float(args[0]), float(args[1]))
        elif operator == b"l" and position is not None:
            end = (float(args[0]), float(args[1]))
            if abs(end[1] - position[1]) < 1e-6:
                segments.append((min(position[0], end[0]), max(position[0], end[0]), end[1]))
            position = end
    return segments


def qr_image_from_pdf(pdf: bytes, scale: int = 10) -> Image.Image:
    """The QR symbol drawn in the PDF, repainted as a black-on-white image with a quiet zone."""
    runs = [(x1, x2, y) for x1, x2, y in qr_segments(pdf) if abs((y - 0.5) - round(y - 0.5)) < 1e-6]
    assert runs, "no QR code path found on the page"
    size = int(round(max(x2 for _x1, x2, _y in runs))) + 4
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    for x1, x2, y in runs:
        row = int(round(y - 0.5))
        draw.rectangle([round(x1) * scale, row * scale, round(x2) * scale - 1, (row + 1) * scale - 1], fill=0)
    return image


def decode_qr_in_pdf(pdf: bytes) -> list[str]:
    """The texts of the QR codes zxing-cpp finds in the PDF's drawn symbol."""
    import zxingcpp

    return [result.text for result in zxingcpp.read_barcodes(qr_image_from_pdf(pdf))]
