"""Shared benchmark machinery: concurrent clients, latency percentiles, a scratch database, text charts."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import secrets
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from services.db import to_asyncpg_dsn


@dataclass
class CpuUse:
    """CPU seconds a measurement cost: its server backends (when the server runs on this machine, read from /proc;
    else None), this process (the clients), and the machine's steal: time its virtual CPUs were ready to run but the
    host ran someone else, with the time of all its CPUs in all (``machine``) to make a share of it. Steal does not
    stay out of the processes' counts: on a host that takes time away they grow as well."""

    server: float | None = 0.0
    client: float = 0.0
    steal: float = 0.0
    machine: float = 0.0

    def __add__(self, other: CpuUse) -> CpuUse:
        return self._combine(other, 1)

    def __sub__(self, other: CpuUse) -> CpuUse:
        """What was spent between two readings of ``cpu_now``: ``after - before``."""
        return self._combine(other, -1)

    def _combine(self, other: CpuUse, sign: int) -> CpuUse:
        server = None if self.server is None or other.server is None else self.server + sign * other.server
        return CpuUse(
            server,
            self.client + sign * other.client,
            self.steal + sign * other.steal,
            self.machine + sign * other.machine,
        )

    @property
    def steal_share(self) -> float:
        return self.steal / self.machine if self.machine else 0.0


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _backend_cpu_seconds(pid: int) -> float | None:
    """CPU seconds a PostgreSQL process on this machine has run so far (None if ``pid`` is not one here): from
    /proc/<pid>/schedstat in nanoseconds, or /proc/<pid>/stat in clock ticks where the kernel keeps no schedstat."""
    proc = Path(f"/proc/{pid}")
    try:
        if (proc / "comm").read_text().strip() != "postgres":
            return None
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((proc / "schedstat").read_text().split()[0]) / 1e9
        fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
    except (OSError, ValueError, IndexError):
        return None


def cpu_now(server_pids: Sequence[int]) -> CpuUse:
    """Counters to subtract: CPU seconds so far of the given server backends, of this process, and of the machine."""
    server: float | None = 0.0
    for pid in server_pids:
        seconds = _backend_cpu_seconds(pid)
        server = None if seconds is None or server is None else server + seconds
    steal = machine = 0.0
    with contextlib.suppress(OSError, IndexError, ValueError):
        ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        steal, machine = ticks[7] / _TICKS, sum(ticks[:8]) / _TICKS  # user .. steal; guest time is inside user
    return CpuUse(server, time.process_time(), steal, machine)


@dataclass
class Measurement:
    """Operations done, seconds taken, the latency of each unit of work (one commit), and the CPU it cost."""

    name: str
    operations: int = 0
    seconds: float = 0.0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    cpu: CpuUse | None = None

    def cpu_per_operation(self, part: str) -> float | None:
        """Microseconds of ``part`` ('server' or 'client') CPU per operation, when it was measured."""
        if self.cpu is None or not self.operations:
            return None
        seconds: float | None = getattr(self.cpu, part)
        return None if seconds is None else seconds / self.operations * 1e6

    @property
    def rate(self) -> float:
        return self.operations / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))
        return ordered[index]


def combined(parts: Sequence[Measurement]) -> Measurement:
    """One row measured in several rounds, as one measurement: the operations and the seconds of all of them."""
    cpu: CpuUse | None = None
    if all(part.cpu is not None for part in parts):
        cpu = sum((part.cpu for part in parts if part.cpu is not None), CpuUse())
    return Measurement(
        parts[0].name,
        operations=sum(part.operations for part in parts),
        seconds=sum(part.seconds for part in parts),
        errors=sum(part.errors for part in parts),
        latencies=[latency for part in parts for latency in part.latencies],
        cpu=cpu,
    )


Operation = Callable[[asyncpg.Connection, int], Awaitable[int]]


@asynccontextmanager
async def open_clients(dsn: str, clients: int) -> AsyncIterator[list[asyncpg.Connection]]:
    """Connections that a row keeps from one round to the next, so only its first round starts them cold."""
    connections = [await asyncpg.connect(dsn) for _ in range(clients)]
    try:
        yield connections
    finally:
        for connection in connections:
            await connection.close()


async def run_clients(
    name: str,
    dsn: str,
    *,
    clients: int,
    units: int,
    operation: Operation,
    label: str,
    connections: Sequence[asyncpg.Connection] | None = None,
) -> Measurement:
    """``clients`` connections share ``units`` units of work; each unit returns how many operations it did. A progress
    bar headed ``label`` follows the units.

    The connections are opened (and closed) here unless the caller passes its own, which it then closes itself.
    """
    measurement = Measurement(name)
    progress = Progress(label, units)
    owned = connections is None
    if connections is None:
        connections = [await asyncpg.connect(dsn) for _ in range(clients)]
    next_unit = 0
    lock = asyncio.Lock()

    async def client(connection: asyncpg.Connection) -> None:
        nonlocal next_unit
        while True:
            async with lock:
                unit = next_unit
                next_unit += 1
            if unit >= units:
                return
            started = time.perf_counter()
            try:
                done = await operation(connection, unit)
            except asyncpg.PostgresError:
                measurement.errors += 1
                continue
            measurement.latencies.append(time.perf_counter() - started)
            measurement.operations += done
            progress.advance()

    server_pids = [connection.get_server_pid() for connection in connections]
    cpu_before = cpu_now(server_pids)
    started = time.perf_counter()
    try:
        await asyncio.gather(*(client(connection) for connection in connections))
    finally:
        measurement.seconds = time.perf_counter() - started
        measurement.cpu = cpu_now(server_pids) - cpu_before
        if owned:
            for connection in connections:
                await connection.close()
    progress.finish()
    return measurement


def _with_database(dsn: str, name: str) -> str:
    base, _, query = dsn.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


@asynccontextmanager
async def scratch_database(database_url: str, *, keep: bool = False) -> AsyncIterator[str]:
    """A new database on the configured server, migrated to head; dropped afterwards unless ``keep``."""
    from services.migrate import upgrade

    name = f"bashan_bench_{secrets.token_hex(4)}"
    admin_dsn = to_asyncpg_dsn(_with_database(database_url, "postgres"))
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = _with_database(database_url, name)
    try:
        await upgrade(url)
        yield url
    finally:
        if not keep:
            admin = await asyncpg.connect(admin_dsn)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()


async def settle(dsn: str) -> None:
    """Leave the database quiet before a timed row: vacuum and analyze now and checkpoint now, so that neither
    autovacuum nor a timed checkpoint (and the page images after it) lands inside whichever row happens to run.

    CHECKPOINT needs a superuser or the pg_checkpoint role; without it the row runs unsettled, as it did before.
    """
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("VACUUM (ANALYZE)")
        with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
            await connection.execute("CHECKPOINT")
    finally:
        await connection.close()


def bar_chart(rows: list[tuple[str, float]], *, unit: str, width: int = 40) -> str:
    """A horizontal bar chart in text, scaled to the largest value."""
    if not rows:
        return ""
    top = max(value for _, value in rows) or 1.0
    label_width = max(len(label) for label, _ in rows)
    lines = []
    for label, value in rows:
        filled = value / top * width
        bar = "█" * int(filled) + ("▌" if filled - int(filled) >= 0.5 else "")
        lines.append(f"{label:<{label_width}} │{bar:<{width + 1}} {value:,.0f} {unit}")
    return "\n".join(lines)


class Progress:
    """A one-line progress bar on stderr, for people watching a long run; silent when stderr is not a terminal."""

    def __init__(self, label: str, total: int) -> None:
        self.label = label
        self.total = max(total, 1)
        self.done = 0
        self._last = 0.0
        self._tty = sys.stderr.isatty()

    def advance(self, amount: int = 1) -> None:
        self.done += amount
        now = time.monotonic()
        if self._tty and (now - self._last > 0.1 or self.done >= self.total):
            self._last = now
            share = min(self.done / self.total, 1.0)
            bar = "█" * int(share * 30)
            sys.stderr.write(f"\r{self.label:<28} │{bar:<30}│ {share:6.1%}")
            if self.done >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()

    def finish(self) -> None:
        if self.done < self.total:
            self.advance(self.total - self.done)


async def create_baseline(dsn: str) -> None:
    """The baseline's table: a plain logged table with a primary key, the cheapest durable commit there is."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS bench_baseline (id bigserial PRIMARY KEY, amount bigint NOT NULL)"
        )
    finally:
        await connection.close()


async def baseline_inserts(
    dsn: str, connections: Sequence[asyncpg.Connection], *, transactions: int, label: str = "baseline INSERT"
) -> Measurement:
    """The yardstick: single-row INSERT transactions on ``create_baseline``'s table, one per client connection."""

    async def insert(connection: asyncpg.Connection, unit: int) -> int:
        await connection.execute("INSERT INTO bench_baseline (amount) VALUES ($1)", unit + 1)
        return 1

    return await run_clients(
        "baseline: 1-row INSERT",
        dsn,
        clients=len(connections),
        units=transactions,
        operation=insert,
        label=label,
        connections=connections,
    )
