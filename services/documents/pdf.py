"""Drawing helpers shared by every document: fonts, QR codes, bilingual labelled fields."""

from __future__ import annotations

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

CJK_FONT = "STSong-Light"
LATIN_FONT = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"

_registered = False


def register_fonts() -> None:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
        _registered = True


def draw_qr(canvas: Canvas, value: str, x: float, y: float, size: float) -> None:
    """A QR code of ``value`` with its lower-left corner at (x, y), ``size`` points wide."""
    widget = QrCodeWidget(value, barLevel="M")
    left, bottom, right, top = widget.getBounds()
    width, height = right - left, top - bottom
    drawing = Drawing(size, size, transform=[size / width, 0, 0, size / height, 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, x, y)


def has_cjk(text: str) -> bool:
    return any(ord(character) >= 0x2E80 for character in text)


def font_for(text: str, latin: str = LATIN_FONT) -> str:
    """The CJK font for text with any Chinese in it (it has Latin glyphs too), else the Latin one."""
    return CJK_FONT if has_cjk(text) else latin


def fit_text(canvas: Canvas, text: str, font: str, size: float, max_width: float) -> float:
    """The largest font size not above ``size`` at which ``text`` fits ``max_width``."""
    width = canvas.stringWidth(text, font, size)
    return size if width <= max_width else max(size * max_width / width, 5.0)


def labelled_field(
    canvas: Canvas, x: float, y: float, chinese: str, english: str, value: str, *, value_width: float
) -> float:
    """A bilingual label above its value; returns the y below it."""
    canvas.setFillGray(0.35)
    canvas.setFont(CJK_FONT, 8.5)
    canvas.drawString(x, y, chinese)
    canvas.setFont(LATIN_FONT, 7.5)
    canvas.drawString(x + canvas.stringWidth(chinese, CJK_FONT, 8.5) + 4, y, english.upper())
    canvas.setFillGray(0)
    font = font_for(value, LATIN_BOLD)
    size = fit_text(canvas, value, font, 11.5, value_width)
    canvas.setFont(font, size)
    canvas.drawString(x, y - 15, value)
    return y - 34
