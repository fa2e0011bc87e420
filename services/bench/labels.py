"""``bashan bench labels``: issuing a million label codes, then public verification over real HTTP.

One run on one scratch database of the configured server:
(1) issue a batch of ``codes`` codes through the service (generation, COPY into ``label_code``, commit), timed;
(2) start the API with uvicorn in a subprocess on a free port of 127.0.0.1 (rate limit raised so it never answers
429, but still counted in Redis on every request) and drive it with a keep-alive load generator: ``wrk`` when installed,
else an asyncio client of raw sockets in this process; first ``GET /healthz`` (the baseline: the same stack without
any work), then ``GET /v1/public/labels/<code>`` over a random sample of the issued codes, each request recording a
scan and judging the counterfeit rule.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx

from domain.identity.roles import ROLE_SCOPES, Role
from domain.labels.scheme import ProductCategory
from domain.labels.states import CertificationEvent
from services.bench.common import Measurement
from services.db import make_engine, make_sessionmaker, to_asyncpg_dsn, unit_of_work
from services.identity.service import Principal, create_organisation
from services.labels import accreditations, certifications, codes

E = CertificationEvent


@dataclass(frozen=True)
class Sizes:
    codes: int = 1_000_000
    sample: int = 20_000
    seconds: float = 10.0
    connections: int = 16
    server_workers: int = 2

    def scaled(self, factor: float) -> Sizes:
        return Sizes(
            codes=max(1_000, int(self.codes * factor)),
            sample=max(100, min(self.sample, int(self.codes * factor))),
            seconds=max(2.0, self.seconds * min(factor, 1.0)),
            connections=self.connections,
            server_workers=self.server_workers,
        )


@dataclass
class HttpResult:
    name: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    generator: str


@dataclass
class Report:
    issue_codes: int
    issue_seconds: float
    stored_codes: int
    baseline: HttpResult
    verify: HttpResult
    scans_recorded: int
    notes: list[str] = field(default_factory=list)

    @property
    def issue_1m_seconds(self) -> float:
        """Scaled to a million codes when the run issued fewer (the --scale option)."""
        return self.issue_seconds * 1_000_000 / self.issue_codes

    def as_json(self) -> dict[str, object]:
        return {
            "issue_codes": self.issue_codes,
            "issue_seconds": round(self.issue_seconds, 3),
            "issue_1m_seconds": round(self.issue_1m_seconds, 3),
            "codes_per_second": round(self.issue_codes / self.issue_seconds, 1),
            "verify_rps": round(self.verify.rps, 1),
            "verify_p50_ms": round(self.verify.p50_ms, 3),
            "verify_p99_ms": round(self.verify.p99_ms, 3),
            "verify_errors": self.verify.errors,
            "baseline_rps": round(self.baseline.rps, 1),
            "baseline_p99_ms": round(self.baseline.p99_ms, 3),
            "verify_vs_baseline": round(self.verify.rps / self.baseline.rps, 3) if self.baseline.rps else None,
            "scans_recorded": self.scans_recorded,
            "load_generator": self.verify.generator,
            "connections": self.verify.name.split("@")[-1],
        }


def _principal(organisation_id: uuid.UUID, role: Role) -> Principal:
    return Principal(organisation_id, role, ROLE_SCOPES[role], None)


async def prepare_certificate(database_url: str, annual_volume: int) -> tuple[uuid.UUID, Principal]:
    """Operator, accredited certifier and a producer whose tea certificate is issued through the workflow."""
    engine = make_engine(database_url, pool_size=1)
    sessions = make_sessionmaker(engine)
    now = datetime.now(UTC)
    tag = secrets.token_hex(3)
    try:
        async with unit_of_work(sessions) as session:
            certifier = await create_organisation(
                session, name=f"bench certifier {tag}", role=Role.CERTIFIER, actor=None
            )
            producer = await create_organisation(
                session, name=f"bench tea garden {tag}", role=Role.ENTERPRISE, actor=None
            )
            operator = await create_organisation(session, name=f"bench operator {tag}", role=Role.OPERATOR, actor=None)
            await accreditations.accredit(
                session,
                scheme_code="BASHAN",
                certifier_id=certifier.id,
                categories=[ProductCategory.TEA],
                valid_from=now.date().replace(year=now.year - 1),
                valid_until=now.date().replace(year=now.year + 4),
                label_number=421,
                actor=_principal(operator.id, Role.OPERATOR).actor,
            )
            application = certifications.Application(
                scheme_code="BASHAN",
                certifier_id=certifier.id,
                category=ProductCategory.TEA,
                product="Nanjiang Huangya green tea, 250 g tin",
                production_site="Guanwu village tea garden",
                district="nanjiang",
                annual_volume=annual_volume,
                volume_unit="tin",
            )
            row = await certifications.apply(session, _principal(producer.id, Role.ENTERPRISE), application, now)
            steps = [
                certifications.Command(E.START_REVIEW),
                certifications.Command(E.ACCEPT_DOCUMENTS),
                certifications.Command(E.RECORD_AUDIT, findings={"organic_inputs_only": True}),
                certifications.Command(
                    E.RECORD_LAB_RESULTS, lab_results={"selenium": Decimal("0.62"), "lead": Decimal("0.8")}
                ),
                certifications.Command(E.GRANT),
                certifications.Command(E.ISSUE),
            ]
            certifier_principal = _principal(certifier.id, Role.CERTIFIER)
            for command in steps:
                await certifications.act(session, row.id, certifier_principal, command, now)
        return row.id, certifier_principal
    finally:
        await engine.dispose()


async def issue_codes(database_url: str, certification_id: uuid.UUID, certifier: Principal, count: int) -> float:
    engine = make_engine(database_url, pool_size=1)
    try:
        started = time.perf_counter()
        async with unit_of_work(make_sessionmaker(engine)) as session:
            await codes.issue_batch(session, certification_id, certifier, count, datetime.now(UTC))
        return time.perf_counter() - started
    finally:
        await engine.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ApiServer:
    """The API under uvicorn in a child process of ours, stopped (and reaped) when the block ends."""

    def __init__(self, database_url: str, redis_url: str, workers: int, pool_size: int) -> None:
        self.port = free_port()
        self.data_dir = Path(tempfile.mkdtemp(prefix="bashan-bench-api-"))
        env = {
            **os.environ,
            "BASHAN_DATABASE_URL": database_url,
            "BASHAN_REDIS_URL": redis_url,
            "BASHAN_REDIS_PREFIX": f"bashan-bench:{secrets.token_hex(4)}:",
            "BASHAN_PUBLIC_RATE_PER_MINUTE": str(10**9),
            "BASHAN_RUN_WORKERS": "false",
            "BASHAN_LOG_LEVEL": "WARNING",
            "BASHAN_DATA_DIR": str(self.data_dir),
            "BASHAN_SECRET_KEY": secrets.token_urlsafe(32),
            "BASHAN_DB_POOL_SIZE": str(pool_size),
        }
        command = [
            sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers),
            "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def wait_ready(self, within_seconds: float = 60.0) -> None:
        deadline = time.monotonic() + within_seconds
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    error = self.process.stderr.read().decode() if self.process.stderr else ""
                    raise RuntimeError(f"the API exited with {self.process.returncode}: {error[-2000:]}")
                try:
                    if (await client.get(self.base_url + "/healthz", timeout=1)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        raise RuntimeError("the API did not answer /healthz in time")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)


_WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("BASHAN_BENCH_PATHS")) do paths[#paths + 1] = line end
local counter = math.random(#paths)
request = function()
    counter = counter + 1
    return wrk.format("GET", paths[(counter % #paths) + 1])
end
"""
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str, name: str) -> HttpResult:
    requests = int(re.search(r"(\d+) requests in ([\d.]+)(\w+)", output).group(1))  # type: ignore[union-attr]
    seconds = _wrk_ms(re.search(r"requests in ([\d.]+\w+),", output).group(1)) / 1000  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _wrk_ms(re.search(r"\n\s+50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _wrk_ms(re.search(r"\n\s+99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket_errors:
        errors += sum(int(value) for value in socket_errors.groups())
    return HttpResult(name, requests, seconds, rps, p50, p99, errors, "wrk")


async def run_wrk(base_url: str, paths: list[str], name: str, sizes: Sizes) -> HttpResult:
    with tempfile.TemporaryDirectory(prefix="bashan-wrk-") as folder:
        script, listing = Path(folder) / "paths.lua", Path(folder) / "paths.txt"
        script.write_text(_WRK_SCRIPT)
        listing.write_text("\n".join(paths) + "\n")
        process = await asyncio.create_subprocess_exec(
            "wrk", "-t", "1", "-c", str(sizes.connections), "-d", f"{sizes.seconds:g}s", "--latency",
            "-s", str(script), base_url,
            env={**os.environ, "BASHAN_BENCH_PATHS": str(listing)},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed: {err.decode()[-500:]}")
    return parse_wrk(out.decode(), name)


async def run_socket_clients(base_url: str, paths: list[str], name: str, sizes: Sizes) -> HttpResult:
    """The fallback load generator: keep-alive HTTP/1.1 over raw asyncio streams, one request in flight each."""
    host, port = base_url.removeprefix("http://").split(":")
    measurement = Measurement(name)
    deadline = time.perf_counter() + sizes.seconds
    counter = iter(range(10**12))

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while time.perf_counter() < deadline:
                path = paths[next(counter) % len(paths)]
                started = time.perf_counter()
                writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
                await reader.readexactly(length)
                measurement.latencies.append(time.perf_counter() - started)
                measurement.operations += 1
                if not head.startswith(b"HTTP/1.1 2"):
                    measurement.errors += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(sizes.connections)))
    measurement.seconds = time.perf_counter() - started
    return HttpResult(
        name,
        measurement.operations,
        measurement.seconds,
        measurement.rate,
        measurement.percentile(0.5) * 1000,
        measurement.percentile(0.99) * 1000,
        measurement.errors,
        "asyncio sockets",
    )


async def load(base_url: str, paths: list[str], name: str, sizes: Sizes) -> HttpResult:
    if shutil.which("wrk"):
        return await run_wrk(base_url, paths, name, sizes)
    return await run_socket_clients(base_url, paths, name, sizes)


async def run(database_url: str, redis_url: str, sizes: Sizes) -> Report:
    certification_id, certifier = await prepare_certificate(database_url, annual_volume=max(sizes.codes, 1) * 2)
    issue_seconds = await issue_codes(database_url, certification_id, certifier, sizes.codes)
    connection = await asyncpg.connect(to_asyncpg_dsn(database_url))
    try:
        stored = int(await connection.fetchval("SELECT count(*) FROM label_code"))
        # Let the database settle after the bulk load (statistics, visibility map, the checkpoint it provoked), so
        # the HTTP phase measures verification rather than autovacuum catching up with a million new rows.
        await connection.execute("VACUUM (ANALYZE) label_code")
        await connection.execute("CHECKPOINT")
        sample = [
            record["code"]
            for record in await connection.fetch("SELECT code FROM label_code ORDER BY random() LIMIT $1", sizes.sample)
        ]
    finally:
        await connection.close()
    # Enough pooled connections for every concurrent request: overflow connections would be opened and closed per
    # request, which measures connection setup instead of verification.
    pool_size = -(-sizes.connections // sizes.server_workers) + 2
    server = ApiServer(database_url, redis_url, sizes.server_workers, pool_size)
    try:
        await server.wait_ready()
        warm = Sizes(sizes.codes, sizes.sample, 2.0, sizes.connections, sizes.server_workers)
        verify_paths = ["/v1/public/labels/" + code for code in sample]
        await load(server.base_url, verify_paths[:500], "warm-up", warm)  # pools, prepared statements, caches
        label = f"@{sizes.connections}"
        baseline = await load(server.base_url, ["/healthz"], "GET /healthz (baseline)" + label, sizes)
        verify = await load(server.base_url, verify_paths, "GET /v1/public/labels/{code}" + label, sizes)
    finally:
        server.stop()
    connection = await asyncpg.connect(to_asyncpg_dsn(database_url))
    try:
        scans = int(await connection.fetchval("SELECT count(*) FROM label_scan"))
    finally:
        await connection.close()
    return Report(sizes.codes, issue_seconds, stored, baseline, verify, scans)
