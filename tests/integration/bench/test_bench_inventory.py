"""The inventory benchmark at a small size: it runs end to end and its figures are consistent."""

from __future__ import annotations

from decimal import Decimal

from services.bench import inventory as bench
from services.bench.common import scratch_database
from tests.conftest import ServerUrls


def test_compute_totals_match_the_published_city_figures() -> None:
    compute, touch, area, carbon = bench.measure_compute(2_000)
    assert compute > 0
    assert touch > 0
    assert Decimal(area) == Decimal("11626000.00")
    assert abs(Decimal(carbon) - Decimal(34_180_440)) < Decimal("0.001")


async def test_import_and_copy_rates_are_measured(servers: ServerUrls) -> None:
    async with scratch_database(servers.database_url) as url:
        import_rate, copy_rate = await bench.measure_import(url, 1_000)
    assert import_rate > 0
    assert copy_rate > 0
    report = bench.InventoryReport(1_000_000, 0.5, 0.05, 1_000, import_rate, copy_rate, "1", "1")
    figures = report.as_json()
    assert figures["compute_1m_seconds"] == 0.5
    assert figures["compute_ratio_to_touch"] == 10.0
    assert {"compute_1m_seconds", "import_rows_per_s"} <= figures.keys()
