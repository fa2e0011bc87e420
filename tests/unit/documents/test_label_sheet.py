from __future__ import annotations

from services.documents.label_sheet import COLUMNS, ROWS, LabelSheet, render_label_sheet
from services.documents.qr import qr_svg
from tests.unit.documents.test_certificate import page_text


def sheet(count: int) -> LabelSheet:
    return LabelSheet(
        batch="LB-2026-0007",
        product="Tongjiang tremella 250 g",
        producer="通江县银耳合作社",
        certifier="Bashan Eco-label Certification",
        certificate_number="BSE-2026-0012",
        valid_until="2029-11-23",
        codes=[f"BS-SCEC-26-{i:012d}-{i % 10}" for i in range(count)],
        verify_base_url="https://bashan.exchange/v1/public/labels/",
    )


def test_codes_fill_pages_of_a_fixed_grid() -> None:
    per_page = COLUMNS * ROWS
    pdf = render_label_sheet(sheet(per_page + 1))
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") == 2
    content = page_text(pdf)
    assert b"BS-SCEC-26-000000000024-4" in content
    # Each code is printed once under its QR code (the QR itself is drawn, not text).
    assert content.count(b"(BS-SCEC-26-") == per_page + 1


def test_qr_svg_is_a_square_svg_image() -> None:
    svg = qr_svg("https://bashan.exchange/v1/public/labels/BS-SCEC-26-000000000001-1", size=120)
    assert svg.lstrip().startswith("<?xml")
    assert "<svg" in svg
    assert 'width="120"' in svg
    assert svg.count("<path") + svg.count("<rect") > 50


def test_captions_can_differ_from_the_encoded_codes() -> None:
    base = sheet(2)
    printed = LabelSheet(**{**base.__dict__, "printed": ["BS-0001-26-0000000000001-7", "BS-0001-26-0000000000002-4"]})
    content = page_text(render_label_sheet(printed))
    assert b"(BS-0001-26-0000000000001-7)" in content
    assert b"(BS-SCEC-26-000000000000-0)" not in content
