"""CSV import of sub-compartments: all rows or none, and the first bad row named by line and field."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.registry.inventory import COLUMNS, InventoryRowError
from services.db import to_asyncpg_dsn
from services.inventory.importer import import_csv
from tests.conftest import ServerUrls

GOOD = [
    ("TJ-01-001-01", "TJ", "通江县", "沙溪镇", "青林村", "masson_pine", "27", "35.40", "9.875"),
    ("NJ-02-003-04", "NJ", "南江县", "赤溪镇", "红星村", "oak", "41", "12.00", "11.200"),
    ("PC-07-010-02", "PC", "Pingchang", "岳家镇", "新华村", "chinese_fir", "15", "0.60", "0.000"),
]


def write(path: Path, rows: list[tuple[str, ...]], header: tuple[str, ...] = COLUMNS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
async def connection(servers: ServerUrls, sessions: async_sessionmaker[AsyncSession]) -> asyncpg.Connection:
    connection = await asyncpg.connect(to_asyncpg_dsn(servers.database_url))
    yield connection
    await connection.close()


async def test_good_rows_are_imported_with_progress(connection: asyncpg.Connection, tmp_path: Path) -> None:
    seen: list[int] = []
    result = await import_csv(connection, write(tmp_path / "good.csv", GOOD), progress=seen.append)
    assert result.rows == 3
    assert seen == [3]
    rows = await connection.fetch(
        "SELECT subcompartment_id, district_code, species, age_years, area_mu, volume_m3_per_mu "
        "FROM inventory_sub_compartment ORDER BY subcompartment_id"
    )
    assert [tuple(row) for row in rows] == [
        ("NJ-02-003-04", "NJ", "oak", 41, Decimal("12.00"), Decimal("11.200")),
        ("PC-07-010-02", "PC", "chinese_fir", 15, Decimal("0.60"), Decimal("0.000")),
        ("TJ-01-001-01", "TJ", "masson_pine", 27, Decimal("35.40"), Decimal("9.875")),
    ]


@pytest.mark.parametrize(
    ("row", "line", "field"),
    [
        (("X-1", "XX", "通江县", "a", "b", "oak", "5", "1.00", "1.000"), 3, "district_code"),
        (("X-1", "TJ", "通江县", "a", "b", "bamboo", "5", "1.00", "1.000"), 3, "species"),
        (("X-1", "TJ", "通江县", "a", "b", "oak", "5", "1.005", "1.000"), 3, "area_mu"),
        (("X-1", "TJ", "通江县", "a", "b", "oak", "old", "1.00", "1.000"), 3, "age_years"),
        (("TJ-01-001-01", "TJ", "通江县", "a", "b", "oak", "5", "1.00", "1.000"), 3, "subcompartment_id"),
    ],
)
async def test_a_bad_row_is_named_and_nothing_is_imported(
    connection: asyncpg.Connection, tmp_path: Path, row: tuple[str, ...], line: int, field: str
) -> None:
    path = write(tmp_path / "bad.csv", [GOOD[0], row, GOOD[1]])
    with pytest.raises(InventoryRowError) as refused:
        await import_csv(connection, path)
    assert (refused.value.line, refused.value.column) == (line, field)
    assert await connection.fetchval("SELECT count(*) FROM inventory_sub_compartment") == 0


async def test_rows_already_imported_are_refused_by_line(connection: asyncpg.Connection, tmp_path: Path) -> None:
    await import_csv(connection, write(tmp_path / "first.csv", GOOD[:1]))
    with pytest.raises(InventoryRowError, match="line 3, field subcompartment_id: TJ-01-001-01 is imported already"):
        await import_csv(connection, write(tmp_path / "again.csv", [GOOD[1], GOOD[0]]))
    assert await connection.fetchval("SELECT count(*) FROM inventory_sub_compartment") == 1


async def test_a_wrong_header_is_refused(connection: asyncpg.Connection, tmp_path: Path) -> None:
    with pytest.raises(InventoryRowError, match="line 1, field header: missing volume_m3_per_mu"):
        await import_csv(connection, write(tmp_path / "h.csv", [GOOD[0][:-1]], COLUMNS[:-1]))
