"""The ledger benchmark at a tiny size: it must run end to end, count what it did, and leave a ledger that audits."""

from __future__ import annotations

import asyncpg

from services.bench import ledger as bench
from services.bench.common import scratch_database
from services.bench.ledger_floor import alone_update
from services.db import to_asyncpg_dsn
from tests.conftest import ServerUrls


async def test_bench_ledger_runs_and_reports_every_row(servers: ServerUrls) -> None:
    sizes = bench.Sizes(
        accounts=20, single=61, hot=30, batches=4, batch_size=50, baseline=201, clients=4, group_clients=4, rounds=3
    )
    async with scratch_database(servers.database_url) as url:
        report = await bench.run(url, sizes)
        connection = await asyncpg.connect(to_asyncpg_dsn(url))
        try:
            options = await connection.fetch(
                "SELECT relname, reloptions FROM pg_class WHERE relname IN ('account', 'bench_floor_account')"
            )
            version = await connection.fetchval("SHOW server_version")
            functions = {
                row["proname"]: (row["prosrc"], row["proconfig"])
                for row in await connection.fetch(
                    "SELECT proname, prosrc, proconfig FROM pg_proc "
                    "WHERE proname IN ('ledger_post_alone', 'bench_floor_post')"
                )
            }
        finally:
            await connection.close()
    figures = report.as_json()
    assert [row.name[:3] for row in report.rows] == ["(a)", "(b)", "(c)", "(e)", "(f)", "(d)"]
    assert figures["rounds"] == 3  # (a), (f) and (d) alternate; each round's share adds up to the whole row
    assert len(figures["single_ratio_rounds"]) == 3
    assert all(ratio > 0 for ratio in figures["single_ratio_rounds"])
    assert report.by_name("(a)").operations == 61
    assert report.by_name("(b)").operations == 30
    assert report.by_name("(c)").operations == 200
    assert report.by_name("(e)").operations == 61
    assert report.by_name("(f)").operations == 61
    assert figures["floor_ok"] is True
    # The floor differs from (a) by the guards only: its accounts' pages are filled as the ledger's are.
    assert {row["relname"]: row["reloptions"] for row in options} == {
        "account": ["fillfactor=25"],
        "bench_floor_account": ["fillfactor=25"],
    }
    # ... and its function runs ledger_post_alone's UPDATE, on its own accounts, under the same planner settings.
    alone_source, alone_settings = functions["ledger_post_alone"]
    floor_source, floor_settings = functions["bench_floor_post"]
    assert floor_settings == alone_settings == ["enable_seqscan=off", "enable_bitmapscan=off"]
    assert alone_update(alone_source).replace("UPDATE account", "UPDATE bench_floor_account", 1) in floor_source
    assert abs(figures["guards_share"] - (1 - figures["single_tps"] / figures["floor_tps"])) < 0.002
    assert report.baseline.operations == 201
    assert 1.0 <= figures["group_mean_batch"] <= 4.0  # four clients: at most four requests can share a commit
    assert figures["errors"] == 0
    assert figures["server_version"] == version
    assert version.split(".")[0] in {"15", "16", "17", "18"}
    # The server runs on this machine in the tests, so the CPU of each row's backends is read from /proc.
    for row in ("single", "floor", "baseline", "hot"):
        assert figures[f"{row}_server_cpu_us"] > 0
        assert figures[f"{row}_client_cpu_us"] > 0
    # A transfer (two account updates and a guarded insert) costs the server more than a one-row INSERT.
    assert figures["single_server_cpu_us"] > figures["baseline_server_cpu_us"]
    assert 0 < figures["single_cpu_ratio"] < 1
    assert 0 <= figures["steal_share"] < 1
    assert figures["audit_ok"] is True
    assert figures["verify_ok"] is True
    assert {"single_tps", "hot_tps", "batched_tps", "baseline_tps"} <= figures.keys()
    assert all(
        isinstance(figures[key], float) and figures[key] > 0 for key in ("single_tps", "group_tps", "baseline_tps")
    )
