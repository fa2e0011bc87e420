from __future__ import annotations

import base64
import re
import zlib
from datetime import UTC, date, datetime

from services.documents.certificate import RetirementCertificate, render_retirement_certificate


def sample(ranges: int = 2) -> RetirementCertificate:
    return RetirementCertificate(
        number="BSR-2026-000042",
        beneficiary="巴中绿色建材有限公司",
        purpose="2026 scope 1 offset",
        claim_start=date(2026, 1, 1),
        claim_end=date(2026, 12, 31),
        project_code="BZ-NJ-0001",
        project_name="Nanjiang Masson Pine",
        vintage=2026,
        tonnes=1200,
        serial_ranges=tuple(f"BSC-BZ-NJ-0001-2026-{i:07d}-{i:07d}" for i in range(1, ranges + 1)),
        retired_at=datetime(2026, 11, 24, 7, 30, tzinfo=UTC),
        verify_url="https://bashan.exchange/v1/public/retirements/BSR-2026-000042",
    )


def page_text(pdf: bytes) -> bytes:
    """The decoded content streams of the PDF (reportlab writes them ASCII85 + Flate encoded)."""
    text = b""
    for body in re.findall(rb"stream\r?\n(.*?)endstream", pdf, flags=re.DOTALL):
        raw = body.strip()
        if raw.endswith(b"~>"):
            raw = base64.a85decode(raw[:-2])
        try:
            text += zlib.decompress(raw)
        except zlib.error:
            continue
    return text


def test_certificate_is_a_one_page_pdf_with_the_facts_in_it() -> None:
    pdf = render_retirement_certificate(sample())
    assert pdf.startswith(b"%PDF-")
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") + pdf.count(b"/Type /Page/") >= 1
    assert b"/STSong-Light" in pdf  # the built-in CJK font, nothing embedded or downloaded
    assert b"Retirement certificate BSR-2026-000042" in pdf
    content = page_text(pdf)
    for fact in (
        b"BSR-2026-000042",
        b"1,200 t CO2e",
        b"BSC-BZ-NJ-0001-2026-0000001-0000001",
        b"2026-11-24 15:30",
    ):
        assert fact in content, fact
    assert b"bashan.exchange/v1/public/retirements/BSR-2026-000042" in content


def test_many_ranges_are_summarised_not_overflowed() -> None:
    content = page_text(render_retirement_certificate(sample(ranges=20)))
    assert b"and 12 more ranges" in content
    assert b"BSC-BZ-NJ-0001-2026-0000009-0000009" not in content
