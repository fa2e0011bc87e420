"""The labels benchmark at a tiny size: it issues, stores, serves over real HTTP, records scans and reports."""

from __future__ import annotations

from services.bench import labels as bench
from services.bench.common import scratch_database
from tests.conftest import ServerUrls

WRK_OUTPUT = """Running 2s test @ http://127.0.0.1:40000
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     7.91ms    3.10ms  40.12ms   80.00%
    Req/Sec     2.03k   150.00     2.30k    70.00%
  Latency Distribution
     50%    7.50ms
     75%    9.00ms
     90%   11.00ms
     99%    1.20s
  4048 requests in 2.00s, 3.10MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   2024.00
Transfer/sec:      1.55MB
"""


def test_wrk_output_is_parsed() -> None:
    result = bench.parse_wrk(WRK_OUTPUT, "verify")
    assert (result.requests, result.seconds, result.rps) == (4048, 2.0, 2024.0)
    assert (result.p50_ms, result.p99_ms, result.errors) == (7.5, 1200.0, 3)


async def test_bench_labels_runs_end_to_end(servers: ServerUrls) -> None:
    sizes = bench.Sizes(codes=3_000, sample=200, seconds=1.0, connections=4, server_workers=1)
    async with scratch_database(servers.database_url) as url:
        report = await bench.run(url, servers.redis_url, sizes)
    figures = report.as_json()
    assert report.stored_codes == 3_000
    assert report.baseline.requests > 0
    assert report.verify.requests > 0
    assert report.verify.errors == 0
    assert report.scans_recorded >= report.verify.requests  # every verification of an issued code is a scan
    assert {"issue_1m_seconds", "verify_rps", "verify_p99_ms", "baseline_rps"} <= figures.keys()
    assert figures["issue_1m_seconds"] == round(report.issue_seconds * 1_000_000 / 3_000, 3)
