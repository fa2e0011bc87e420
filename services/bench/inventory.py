"""``bashan bench inventory``: carbon stock of 1,000,000 sub-compartments, and CSV import rows/s into PostgreSQL.

Baselines measured in the same run: for the computation, one pass that only adds up the areas of the same
columns (the least work that touches every row); for the import, a plain COPY of the same CSV into a table with
no constraints, indexes or validation.
"""

from __future__ import annotations

import csv
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from domain.registry.bazhong import synthesize
from domain.registry.inventory import COLUMNS, CarbonFactors, compute_stock
from domain.registry.methodology import DEFAULT_METHODOLOGY
from services.bench.common import Progress
from services.db import to_asyncpg_dsn
from services.inventory.importer import import_csv

COMPUTE_ROWS = 1_000_000
REPEATS = 3


@dataclass(frozen=True)
class InventoryReport:
    compute_rows: int
    compute_seconds: float
    touch_seconds: float
    import_rows: int
    import_rows_per_s: float
    copy_rows_per_s: float
    total_area_mu: str
    total_t_c: str

    def as_json(self) -> dict[str, object]:
        return {
            "compute_1m_seconds": round(self.compute_seconds * 1_000_000 / self.compute_rows, 4),
            "compute_rows": self.compute_rows,
            "touch_baseline_seconds": round(self.touch_seconds, 4),
            "compute_ratio_to_touch": round(self.compute_seconds / self.touch_seconds, 2)
            if self.touch_seconds
            else None,
            "import_rows_per_s": round(self.import_rows_per_s, 1),
            "import_rows": self.import_rows,
            "copy_baseline_rows_per_s": round(self.copy_rows_per_s, 1),
            "import_ratio_to_copy": round(self.import_rows_per_s / self.copy_rows_per_s, 3)
            if self.copy_rows_per_s
            else None,
        }


def measure_compute(rows: int) -> tuple[float, float, str, str]:
    """Best of ``REPEATS`` timings of compute_stock and of the touch-every-row baseline."""
    factors = CarbonFactors.of(DEFAULT_METHODOLOGY)
    progress = Progress(f"synthesising {rows:,} rows", rows)
    inventory = synthesize(factors, rows, seed=1, progress=lambda done: progress.advance(done - progress.done))
    progress.finish()
    columns = inventory.columns
    compute = touch = float("inf")
    totals = None
    for _ in range(REPEATS):
        started = time.perf_counter()
        totals = compute_stock(columns, factors)
        compute = min(compute, time.perf_counter() - started)
        started = time.perf_counter()
        sum(columns.area)
        touch = min(touch, time.perf_counter() - started)
    assert totals is not None
    return compute, touch, f"{totals.total.area_mu}", f"{totals.total.carbon_t_c}"


async def measure_import(database_url: str, rows: int) -> tuple[float, float]:
    """Rows/s of ``import_csv`` and of a raw COPY of the same file, on the scratch database."""
    factors = CarbonFactors.of(DEFAULT_METHODOLOGY)
    inventory = synthesize(factors, rows, seed=2)
    with tempfile.TemporaryDirectory(prefix="bashan-bench-") as folder:
        path = Path(folder) / "inventory.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(COLUMNS)
            writer.writerows(inventory.csv_rows())
        connection = await asyncpg.connect(to_asyncpg_dsn(database_url))
        try:
            await connection.execute(
                "CREATE TABLE bench_copy (subcompartment_id text, district_code text, district text, township text, "
                "village text, species text, age_years text, area_mu text, volume_m3_per_mu text)"
            )
            started = time.perf_counter()
            await connection.copy_to_table("bench_copy", source=path, format="csv", header=True)
            copy_rate = rows / (time.perf_counter() - started)
            progress = Progress(f"importing {rows:,} rows", rows)
            result = await import_csv(connection, path, progress=progress.advance)
            progress.finish()
        finally:
            await connection.close()
    return result.rows_per_second, copy_rate
