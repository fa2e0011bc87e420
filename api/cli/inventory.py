"""``bashan inventory``: synthetic city inventories and their carbon stock, from and to CSV files (no database)."""

from __future__ import annotations

import csv
import time
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from domain.errors import DomainError
from domain.registry.bazhong import MAX_ROWS, MIN_ROWS, synthesize
from domain.registry.inventory import (
    COLUMNS,
    DISTRICTS,
    CarbonFactors,
    ColumnsBuilder,
    StockLine,
    StockTotals,
    check_header,
    compute_stock,
)
from domain.registry.methodology import DEFAULT_METHODOLOGY

app = typer.Typer(
    help="City forest inventories (sub-compartment CSV files) and their carbon stock.", no_args_is_help=True
)
PROGRESS_FROM_ROWS = 20_000  # smaller jobs finish before a bar would be worth drawing
CHUNK = 10_000


class City(StrEnum):
    BAZHONG = "bazhong"


def _progress(console: Console, enabled: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not enabled,
        transient=False,
    )


def _table(title: str, lines: list[StockLine], names: dict[str, str]) -> Table:
    table = Table(title=title)
    for heading in ("", "area (mu)", "t C", "t CO2e", "t C / mu"):
        table.add_column(heading, justify="right" if heading else "left")
    for line in lines:
        key = line.district or line.species or "total"
        density = f"{(line.carbon_t_c / line.area_mu).quantize(Decimal('0.001'))}" if line.area_mu else "-"
        table.add_row(
            names.get(key, key), f"{line.area_mu:,.2f}", f"{line.carbon_t_c:,.3f}", f"{line.co2e_t:,.3f}", density
        )
    return table


def print_stock(console: Console, totals: StockTotals) -> None:
    districts = {district.code: f"{district.name_zh} {district.name_en}" for district in DISTRICTS}
    species = {code: f"{item.name_zh} {item.name_en}" for code, item in DEFAULT_METHODOLOGY.species.items()}
    console.print(_table("Carbon stock by district", [*totals.by_district(), totals.total], districts))
    console.print(_table("Carbon stock by species", [*totals.by_species(), totals.total], species))


@app.command("synth")
def synth(
    out: Annotated[Path, typer.Option("--out", help="CSV file to write", dir_okay=False, writable=True)],
    city: Annotated[City, typer.Option(help="city whose published totals the inventory matches")] = City.BAZHONG,
    rows: Annotated[int, typer.Option(min=MIN_ROWS, max=MAX_ROWS, help="number of sub-compartments")] = 100_000,
    seed: Annotated[int, typer.Option(help="random seed: the same seed writes the same file")] = 1,
) -> None:
    """Write a synthetic sub-compartment inventory whose totals equal the city's published forest figures."""
    console = Console(stderr=True)
    factors = CarbonFactors.of(DEFAULT_METHODOLOGY)
    started = time.perf_counter()
    with _progress(console, rows >= PROGRESS_FROM_ROWS) as progress:
        drawing = progress.add_task("drawing sub-compartments", total=rows)
        inventory = synthesize(factors, rows, seed, lambda done: progress.update(drawing, completed=done))
        progress.update(drawing, completed=rows)
        writing = progress.add_task(f"writing {out.name}", total=rows)
        with out.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(COLUMNS)
            batch: list[tuple[str, ...]] = []
            for row in inventory.csv_rows():
                batch.append(row)
                if len(batch) == CHUNK:
                    writer.writerows(batch)
                    progress.advance(writing, len(batch))
                    batch.clear()
            writer.writerows(batch)
            progress.advance(writing, len(batch))
    total = compute_stock(inventory.columns, factors).total
    typer.echo(
        f"wrote {rows:,} sub-compartments of {city.value} to {out} in {time.perf_counter() - started:.1f} s: "
        f"{total.area_mu:,.2f} mu, {total.carbon_t_c:,.3f} t C ({total.co2e_t:,.3f} t CO2e), "
        f"{total.carbon_t_c / total.area_mu:.4f} t C per mu"
    )


def _count_lines(file: Path) -> int:
    count = 0
    with file.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            count += chunk.count(b"\n")
    return count


@app.command("stock")
def stock(
    file: Annotated[Path, typer.Argument(help="sub-compartment CSV", exists=True, dir_okay=False, readable=True)],
) -> None:
    """Validate a sub-compartment CSV and print its carbon stock by district and species (t C and t CO2e)."""
    console = Console(stderr=True)
    factors = CarbonFactors.of(DEFAULT_METHODOLOGY)
    builder = ColumnsBuilder(factors)
    expected = _count_lines(file) - 1
    try:
        with (
            file.open(newline="", encoding="utf-8-sig") as handle,
            _progress(console, expected >= PROGRESS_FROM_ROWS) as progress,
        ):
            task = progress.add_task(f"reading {file.name}", total=expected)
            reader = csv.DictReader(handle)
            check_header(reader.fieldnames)
            for line, row in enumerate(reader, start=2):
                builder.add(row, line)
                if line % CHUNK == 0:
                    progress.update(task, completed=line - 1)
            progress.update(task, completed=len(builder.columns))
    except DomainError as error:
        typer.echo(f"{file}: {error.detail}", err=True)
        raise typer.Exit(code=1) from None
    except UnicodeDecodeError as error:
        typer.echo(f"{file}: not UTF-8 text ({error.reason} at byte {error.start})", err=True)
        raise typer.Exit(code=1) from None
    started = time.perf_counter()
    totals = compute_stock(builder.columns, factors)
    elapsed = time.perf_counter() - started
    output = Console()
    print_stock(output if output.is_terminal else Console(width=120), totals)
    typer.echo(f"{len(builder.columns):,} sub-compartments; carbon stock computed in {elapsed:.3f} s")


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="sub-compartment CSV", exists=True, dir_okay=False, readable=True)],
) -> None:
    """Load a sub-compartment CSV into the database: every row or none; a bad row is named with its line and field."""
    import asyncio

    import asyncpg

    from services.config import get_settings
    from services.db import to_asyncpg_dsn
    from services.embedded import resolve_servers
    from services.inventory.importer import import_csv
    from services.migrate import upgrade_sync

    console = Console(stderr=True)
    expected = _count_lines(file) - 1
    servers = resolve_servers(get_settings())
    try:
        upgrade_sync(servers.database_url)

        async def run() -> float:
            connection = await asyncpg.connect(to_asyncpg_dsn(servers.database_url))
            try:
                with _progress(console, expected >= PROGRESS_FROM_ROWS) as progress:
                    task = progress.add_task(f"importing {file.name}", total=expected)
                    result = await import_csv(connection, file, progress=lambda n: progress.advance(task, n))
                return result.rows_per_second
            finally:
                await connection.close()

        rate = asyncio.run(run())
    except DomainError as error:
        typer.echo(f"{file}: {error.detail}; nothing was imported", err=True)
        raise typer.Exit(code=1) from None
    finally:
        servers.stop()
    typer.echo(f"imported {expected:,} sub-compartments from {file} ({rate:,.0f} rows/s)")
