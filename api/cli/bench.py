"""``bashan bench ...``: benchmarks that print their figures, a chart, and with --json a last line of JSON."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Annotated

import typer

from services.config import get_settings
from services.embedded import redact, resolve_servers

if TYPE_CHECKING:
    from services.bench import ledger as bench_ledger

app = typer.Typer(help="Benchmarks (figures beside a baseline measured in the same run).", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="end with one line of JSON")]
KeepOption = Annotated[bool, typer.Option("--keep", help="keep the scratch database afterwards")]
ScaleOption = Annotated[float, typer.Option("--scale", min=0.01, help="multiply every workload's size")]


@app.command("ledger")
def ledger(as_json: JsonOption = False, keep: KeepOption = False, scale: ScaleOption = 1.0) -> None:
    """Transfers/s: single (8 clients), hot account, batches of 1,000, group commit, guard-free floor, vs INSERTs."""
    from services.bench import ledger as bench
    from services.bench.common import bar_chart, scratch_database

    servers = resolve_servers(get_settings())
    try:
        typer.echo(f"database: {servers.database_source} ({redact(servers.database_url)})")

        async def main() -> bench.Report:
            async with scratch_database(servers.database_url, keep=keep) as url:
                typer.echo(f"scratch database: {url.rsplit('/', 1)[-1].split('?')[0]} (migrated to head)")
                return await bench.run(url, bench.Sizes().scaled(scale))

        report = asyncio.run(main())
    finally:
        servers.stop()

    base = report.baseline.rate
    typer.echo(f"server: PostgreSQL {report.server_version}")
    typer.echo("")
    typer.echo(f"{'row':<34} {'transfers':>10} {'per s':>10} {'p50 ms':>8} {'p99 ms':>8} {'vs baseline':>12}")
    for row in report.rows:
        ratio = f"{row.rate / base:.2f}x" if base else "-"
        typer.echo(
            f"{row.name:<34} {row.operations:>10,} {row.rate:>10,.0f} {row.percentile(0.5) * 1000:>8.2f} "
            f"{row.percentile(0.99) * 1000:>8.2f} {ratio:>12}"
        )
    typer.echo(f"(e) shared its commits among {report.group_mean_batch:.1f} transfers on average")
    floor = report.by_name("(f)").rate
    if floor:
        single = report.by_name("(a)").rate
        typer.echo(
            f"(f) the guards take {1 - single / floor:.0%} of the floor's rate; the floor itself reaches "
            f"{floor / base:.2f}x of the baseline" + ("" if report.floor_ok else " (its balances do NOT add up)")
        )
    if report.round_ratios:
        rounds = ", ".join(f"{ratio:.2f}x" for ratio in report.round_ratios)
        typer.echo(f"(a) against the baseline, round by round: {rounds}")
    typer.echo("")
    typer.echo(bar_chart([(row.name, row.rate) for row in report.rows], unit="/s"))
    _echo_cpu(report)
    typer.echo("")
    typer.echo(f"sealed {report.integrity.blocks_sealed} blocks; {report.integrity.verify}")
    typer.echo(report.integrity.audit)
    if as_json:
        typer.echo(json.dumps(report.as_json()))
    if not (report.integrity.audit_ok and report.integrity.verify_ok and report.floor_ok):
        raise typer.Exit(code=1)


def _echo_cpu(report: bench_ledger.Report) -> None:
    """CPU microseconds per operation of the compared rows, as a chart, and how much the host took meanwhile."""
    from services.bench.common import bar_chart

    figures = report.cpu_figures()
    typer.echo("")
    rows = [("(a) single transfers", "single"), ("(f) floor", "floor"), ("(d) baseline", "baseline")]
    if figures["single_server_cpu_us"] is None:
        typer.echo("CPU per operation: not measured (the server does not run on this machine)")
    else:
        typer.echo("CPU per operation, the row's server backends and the benchmark's clients:")
        chart = []
        for label, key in rows:
            server, client = figures[f"{key}_server_cpu_us"], figures[f"{key}_client_cpu_us"]
            chart += [(f"{label}, server", server or 0.0), (f"{label}, clients", client or 0.0)]
        typer.echo(bar_chart(chart, unit="us"))
        ratio = figures["single_cpu_ratio"]
        if ratio is not None:
            typer.echo(f"by CPU alone, (a) would run at {ratio:.2f}x of the baseline")
    steal = figures["steal_share"]
    if steal is not None:
        unsteady = " (a noisy host: figures of this run move more than usual)" if steal > 0.05 else ""
        typer.echo(f"the host took {steal:.1%} of this machine's CPU time while (a), (f) and (d) ran{unsteady}")


@app.command("inventory")
def inventory(
    as_json: JsonOption = False,
    keep: KeepOption = False,
    rows: Annotated[int, typer.Option(min=1_000, help="rows for the computation")] = 1_000_000,
    import_rows: Annotated[int, typer.Option(min=1_000, help="rows for the CSV import")] = 200_000,
) -> None:
    """Carbon stock of 1,000,000 sub-compartments (target <= 2 s) and CSV import rows/s, beside their baselines."""
    from services.bench import inventory as bench
    from services.bench.common import bar_chart, scratch_database

    compute, touch, area, carbon = bench.measure_compute(rows)
    servers = resolve_servers(get_settings())
    try:
        typer.echo(f"database: {servers.database_source} ({redact(servers.database_url)})")

        async def main() -> tuple[float, float]:
            async with scratch_database(servers.database_url, keep=keep) as url:
                return await bench.measure_import(url, import_rows)

        import_rate, copy_rate = asyncio.run(main())
    finally:
        servers.stop()
    report = bench.InventoryReport(rows, compute, touch, import_rows, import_rate, copy_rate, area, carbon)
    figures = report.as_json()
    typer.echo("")
    typer.echo(f"carbon stock of {rows:,} sub-compartments: {compute:.3f} s ({area} mu, {carbon} t C)")
    typer.echo(f"  baseline, one pass adding up the areas: {touch:.3f} s  ({figures['compute_ratio_to_touch']}x)")
    typer.echo(f"  per million rows: {figures['compute_1m_seconds']} s (target <= 2 s)")
    typer.echo(
        f"CSV import of {import_rows:,} rows: {import_rate:,.0f} rows/s; raw COPY baseline {copy_rate:,.0f} rows/s"
    )
    typer.echo("")
    typer.echo(bar_chart([("validated import", import_rate), ("raw COPY baseline", copy_rate)], unit="rows/s"))
    if as_json:
        typer.echo(json.dumps(figures))


@app.command("labels")
def labels(as_json: JsonOption = False, keep: KeepOption = False, scale: ScaleOption = 1.0) -> None:
    """Issue a million label codes (generation + COPY), then verify codes over HTTP against GET /healthz."""
    from services.bench import labels as bench
    from services.bench.common import bar_chart, scratch_database

    servers = resolve_servers(get_settings())
    sizes = bench.Sizes().scaled(scale)
    try:
        typer.echo(f"database: {servers.database_source} ({redact(servers.database_url)})")

        async def main() -> bench.Report:
            async with scratch_database(servers.database_url, keep=keep) as url:
                typer.echo(f"scratch database: {url.rsplit('/', 1)[-1].split('?')[0]} (migrated to head)")
                typer.echo(f"issuing {sizes.codes:,} codes, then {sizes.seconds:g} s of HTTP load per route ...")
                return await bench.run(url, servers.redis_url, sizes)

        report = asyncio.run(main())
    finally:
        servers.stop()

    typer.echo("")
    typer.echo(
        f"issue {report.issue_codes:,} codes: {report.issue_seconds:.2f} s "
        f"({report.issue_codes / report.issue_seconds:,.0f} codes/s; {report.stored_codes:,} stored; "
        f"1M-code equivalent {report.issue_1m_seconds:.2f} s, target <= 20 s)"
    )
    typer.echo("")
    typer.echo(f"{'route (HTTP, ' + report.verify.generator + ')':<44} {'requests':>9} {'req/s':>9} {'p50 ms':>8} "
               f"{'p99 ms':>8} {'errors':>7}")  # fmt: skip
    for row in (report.baseline, report.verify):
        typer.echo(
            f"{row.name:<44} {row.requests:>9,} {row.rps:>9,.0f} {row.p50_ms:>8.2f} {row.p99_ms:>8.2f} {row.errors:>7}"
        )
    typer.echo("")
    typer.echo(bar_chart([(row.name, row.rps) for row in (report.baseline, report.verify)], unit="req/s"))
    typer.echo("")
    typer.echo(
        f"verify: {report.verify.rps:,.0f} req/s (target >= 2,000), p99 {report.verify.p99_ms:.1f} ms (target <= 50); "
        f"{report.scans_recorded:,} scans recorded"
    )
    if as_json:
        typer.echo(json.dumps(report.as_json()))
