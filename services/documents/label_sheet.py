"""A printable sheet of eco-label codes: a grid of QR codes, each with its code and the verification address."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from services.documents.pdf import CJK_FONT, LATIN_FONT, draw_qr, fit_text, font_for, register_fonts

GREEN = (0.11, 0.37, 0.22)
COLUMNS = 4
ROWS = 6
MARGIN = 36
HEADER = 70


@dataclass(frozen=True)
class LabelSheet:
    batch: str
    product: str
    producer: str
    certifier: str
    certificate_number: str
    valid_until: str
    codes: Sequence[str]
    verify_base_url: str  # a code is appended to it
    printed: Sequence[str] | None = None  # the text under each QR code, if not the code itself

    def caption(self, index: int) -> str:
        return self.printed[index] if self.printed is not None else self.codes[index]


def render_label_sheet(sheet: LabelSheet) -> bytes:
    """One cell per code, ``COLUMNS`` x ``ROWS`` a page, as many pages as needed, each page headed and numbered."""
    register_fonts()
    buffer = io.BytesIO()
    width, height = A4
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"Bashan eco-label codes, batch {sheet.batch}")
    canvas.setAuthor("Bashan Exchange")
    per_page = COLUMNS * ROWS
    pages = max(1, -(-len(sheet.codes) // per_page))
    cell_width = (width - 2 * MARGIN) / COLUMNS
    cell_height = (height - 2 * MARGIN - HEADER) / ROWS
    qr_size = min(cell_width, cell_height) - 34

    for page in range(pages):
        _header(canvas, sheet, width, height, page + 1, pages)
        for index, code in enumerate(sheet.codes[page * per_page : (page + 1) * per_page]):
            caption = sheet.caption(page * per_page + index)
            column, row = index % COLUMNS, index // COLUMNS
            x = MARGIN + column * cell_width
            y = height - MARGIN - HEADER - (row + 1) * cell_height
            canvas.setStrokeGray(0.75)
            canvas.setDash(2, 2)
            canvas.rect(x, y, cell_width, cell_height)  # cutting guide
            canvas.setDash()
            draw_qr(canvas, sheet.verify_base_url + code, x + (cell_width - qr_size) / 2, y + 26, qr_size)
            canvas.setFillColorRGB(*GREEN)
            canvas.setFont(CJK_FONT, 7.5)
            canvas.drawCentredString(x + cell_width / 2, y + cell_height - 10, "巴山生态标志 Bashan Eco-label")
            canvas.setFillGray(0)
            canvas.setFont("Courier-Bold", fit_text(canvas, caption, "Courier-Bold", 8.5, cell_width - 8))
            canvas.drawCentredString(x + cell_width / 2, y + 15, caption)
            canvas.setFont(CJK_FONT, 6)
            canvas.drawCentredString(x + cell_width / 2, y + 6, "扫码验证真伪 Scan to verify")
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _header(canvas: Canvas, sheet: LabelSheet, width: float, height: float, page: int, pages: int) -> None:
    top = height - MARGIN
    canvas.setFillColorRGB(*GREEN)
    canvas.setFont(CJK_FONT, 15)
    canvas.drawString(MARGIN, top - 14, "巴山生态产品标志码")
    canvas.setFont(LATIN_FONT, 10)
    canvas.drawString(MARGIN + 142, top - 14, "Bashan eco-label codes")
    canvas.setFillGray(0)
    lines = (
        f"{sheet.product} · {sheet.producer}",
        f"证书 Certificate {sheet.certificate_number} · 有效期至 valid until {sheet.valid_until} · {sheet.certifier}",
        f"批次 Batch {sheet.batch} · {len(sheet.codes):,} codes · page {page}/{pages}",
    )
    for offset, line in enumerate(lines):
        font = font_for(line)
        canvas.setFont(font, fit_text(canvas, line, font, 8.5, width - 2 * MARGIN))
        canvas.drawString(MARGIN, top - 32 - offset * 12, line)
