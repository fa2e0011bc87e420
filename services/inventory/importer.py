"""Import a sub-compartment CSV into ``inventory_sub_compartment``: all rows or none, the first bad row named.

Rows are validated by the domain (``ColumnsBuilder``: fields, ranges, ids repeated inside the file), streamed with
COPY into a temporary staging table, checked there against ids already imported, then moved in one INSERT.
One transaction: a refusal leaves the table as it was.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from domain.errors import DomainError
from domain.registry.inventory import CarbonFactors, ColumnsBuilder, InventoryRowError, SubCompartment, check_header
from domain.registry.methodology import DEFAULT_METHODOLOGY

CHUNK = 10_000
FIELDS = (
    "line",
    "subcompartment_id",
    "district_code",
    "township",
    "village",
    "species",
    "age_years",
    "area_mu",
    "volume_m3_per_mu",
)

_COLUMNS = ", ".join(FIELDS[1:])
MOVE_STAGED = f"INSERT INTO inventory_sub_compartment ({_COLUMNS}) SELECT {_COLUMNS} FROM inventory_staging"  # noqa: S608


@dataclass(frozen=True)
class ImportResult:
    rows: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def _records(path: Path, factors: CarbonFactors) -> Iterator[list[tuple[object, ...]]]:
    """Validated rows in chunks, as COPY records; raises InventoryRowError naming the line and field."""
    builder = ColumnsBuilder(factors)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            check_header(reader.fieldnames)
            chunk: list[tuple[object, ...]] = []
            for line, row in enumerate(reader, start=2):
                item: SubCompartment = builder.add(row, line)
                chunk.append(
                    (
                        line,
                        item.subcompartment_id,
                        item.district_code,
                        item.township,
                        item.village,
                        item.species,
                        item.age_years,
                        item.area_mu,
                        item.volume_m3_per_mu,
                    )
                )
                if len(chunk) == CHUNK:
                    yield chunk
                    chunk = []
            if chunk:
                yield chunk
    except UnicodeDecodeError as error:
        raise DomainError(f"not UTF-8 text ({error.reason} at byte {error.start})", code="invalid_encoding") from None


async def import_csv(
    connection: asyncpg.Connection,
    path: Path,
    *,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import ``path`` on ``connection`` in one transaction; ``progress(n)`` hears of every chunk of rows."""
    factors = CarbonFactors.of(DEFAULT_METHODOLOGY)
    started = time.perf_counter()
    rows = 0
    async with connection.transaction():
        await connection.execute(
            "CREATE TEMPORARY TABLE inventory_staging (line integer NOT NULL, subcompartment_id text NOT NULL, "
            "district_code text NOT NULL, township text NOT NULL, village text NOT NULL, species text NOT NULL, "
            "age_years integer NOT NULL, area_mu numeric NOT NULL, volume_m3_per_mu numeric NOT NULL) ON COMMIT DROP"
        )
        for chunk in _records(path, factors):
            await connection.copy_records_to_table("inventory_staging", records=chunk, columns=FIELDS)
            rows += len(chunk)
            if progress:
                progress(len(chunk))
        clash = await connection.fetchrow(
            "SELECT s.line, s.subcompartment_id FROM inventory_staging s "
            "JOIN inventory_sub_compartment t USING (subcompartment_id) ORDER BY s.line LIMIT 1"
        )
        if clash is not None:
            raise InventoryRowError(
                clash["line"], "subcompartment_id", f"{clash['subcompartment_id']} is imported already"
            )
        await connection.execute(MOVE_STAGED)
    return ImportResult(rows, time.perf_counter() - started)
