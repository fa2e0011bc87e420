"""The retirement certificate: a one-page bilingual PDF with a QR code to its public verification page."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen.canvas import Canvas

from services.documents.pdf import (
    CJK_FONT,
    LATIN_BOLD,
    LATIN_FONT,
    draw_qr,
    fit_text,
    font_for,
    labelled_field,
    register_fonts,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
GREEN = (0.11, 0.37, 0.22)
MAX_LISTED_RANGES = 8


@dataclass(frozen=True)
class RetirementCertificate:
    number: str
    beneficiary: str
    purpose: str
    claim_start: date
    claim_end: date
    project_code: str
    project_name: str
    vintage: int
    tonnes: int
    serial_ranges: tuple[str, ...]
    retired_at: datetime
    verify_url: str
    registry: str = "巴山碳汇与生态产品交易平台 Bashan Exchange Registry"


def render_retirement_certificate(certificate: RetirementCertificate) -> bytes:
    register_fonts()
    buffer = io.BytesIO()
    width, height = landscape(A4)
    canvas = Canvas(buffer, pagesize=(width, height), pageCompression=1)
    canvas.setTitle(f"Retirement certificate {certificate.number}")
    canvas.setAuthor("Bashan Exchange")
    canvas.setSubject(f"{certificate.tonnes} t CO2e retired for {certificate.beneficiary}")

    # Frame: a double green border, as on a paper certificate.
    canvas.setStrokeColorRGB(*GREEN)
    canvas.setLineWidth(3)
    canvas.rect(22, 22, width - 44, height - 44)
    canvas.setLineWidth(0.8)
    canvas.rect(30, 30, width - 60, height - 60)

    canvas.setFillColorRGB(*GREEN)
    canvas.setFont(CJK_FONT, 26)
    canvas.drawCentredString(width / 2, height - 82, "碳信用注销证明")
    canvas.setFont(LATIN_BOLD, 15)
    canvas.drawCentredString(width / 2, height - 104, "CARBON CREDIT RETIREMENT CERTIFICATE")
    canvas.setFont(CJK_FONT, 10)
    canvas.setFillGray(0.3)
    canvas.drawCentredString(width / 2, height - 122, certificate.registry)

    canvas.setFillGray(0)
    statement_cn = (
        f"兹证明 {certificate.tonnes:,} 吨二氧化碳当量的林业碳汇减排量已代表 {certificate.beneficiary} "
        "永久注销，不得再次转让或使用。"
    )
    statement_en = (
        f"This certifies that {certificate.tonnes:,} t CO2e of forest carbon credits have been permanently retired "
        f"on behalf of {certificate.beneficiary}; they can never be transferred or used again."
    )
    canvas.setFont(CJK_FONT, fit_text(canvas, statement_cn, CJK_FONT, 12, width - 120))
    canvas.drawCentredString(width / 2, height - 152, statement_cn)
    english_font = font_for(statement_en)
    canvas.setFont(english_font, fit_text(canvas, statement_en, english_font, 10, width - 120))
    canvas.drawCentredString(width / 2, height - 168, statement_en)

    local = certificate.retired_at.astimezone(SHANGHAI)
    left, right, column = 60, width / 2 + 10, width / 2 - 90
    y = height - 205
    y_left = labelled_field(canvas, left, y, "证书编号", "Certificate no.", certificate.number, value_width=column)
    y_left = labelled_field(canvas, left, y_left, "受益方", "Beneficiary", certificate.beneficiary, value_width=column)
    y_left = labelled_field(canvas, left, y_left, "注销用途", "Purpose", certificate.purpose, value_width=column)
    claim = f"{certificate.claim_start.isoformat()} – {certificate.claim_end.isoformat()}"
    labelled_field(canvas, left, y_left, "声明期间", "Claim period", claim, value_width=column)

    y_right = labelled_field(
        canvas,
        right,
        y,
        "项目",
        "Project",
        f"{certificate.project_code} {certificate.project_name}",
        value_width=column,
    )
    y_right = labelled_field(canvas, right, y_right, "年份", "Vintage", str(certificate.vintage), value_width=column)
    y_right = labelled_field(
        canvas, right, y_right, "注销数量", "Quantity", f"{certificate.tonnes:,} t CO2e", value_width=column
    )
    labelled_field(
        canvas,
        right,
        y_right,
        "注销时间",
        "Retired at",
        f"{local:%Y-%m-%d %H:%M} (UTC+8)  ·  {certificate.retired_at:%Y-%m-%d %H:%M} UTC",
        value_width=column,
    )

    # Serial ranges: every credit of the retirement, traceable one by one.
    y = 175
    canvas.setFillGray(0.35)
    canvas.setFont(CJK_FONT, 8.5)
    canvas.drawString(left, y, "序列号区间")
    canvas.setFont(LATIN_FONT, 7.5)
    canvas.drawString(left + 48, y, "SERIAL RANGES")
    canvas.setFillGray(0)
    canvas.setFont("Courier", 9)
    shown = certificate.serial_ranges[:MAX_LISTED_RANGES]
    for index, serial_range in enumerate(shown):
        canvas.drawString(left + (index % 2) * 290, y - 15 - (index // 2) * 12, serial_range)
    hidden = len(certificate.serial_ranges) - len(shown)
    if hidden > 0:
        canvas.setFont(LATIN_FONT, 8)
        canvas.drawString(left, y - 15 - 12 * ((len(shown) + 1) // 2), f"… and {hidden} more ranges: see the URL")

    qr_size = 96
    draw_qr(canvas, certificate.verify_url, width - 60 - qr_size, 52, qr_size)
    canvas.setFont(CJK_FONT, 8)
    canvas.drawCentredString(width - 60 - qr_size / 2, 44, "扫码验证 Scan to verify")
    canvas.setFont(LATIN_FONT, 7)
    canvas.setFillGray(0.35)
    canvas.drawString(left, 44, certificate.verify_url)

    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
