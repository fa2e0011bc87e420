"""Background workers: periodic jobs that run beside the API (or alone, in a worker process).

Each job opens its own transactions through the session factory and returns how many things it did, for the log.
A failing run is logged and retried at the next interval; it never stops the other jobs or the API.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services import idempotency
from services.db import unit_of_work
from services.labels import surveillance as labels_surveillance
from services.ledger import jobs as ledger_jobs

log = structlog.get_logger("bashan.workers")
Sessions = async_sessionmaker[AsyncSession]

IDEMPOTENCY_RETENTION_HOURS = 24


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval_seconds: float
    run: Callable[[Sessions], Awaitable[int]]


async def purge_idempotency_keys(sessions: Sessions) -> int:
    async with unit_of_work(sessions) as session:
        return await idempotency.purge_older_than(session, IDEMPOTENCY_RETENTION_HOURS)


def default_jobs() -> list[PeriodicJob]:
    """Every periodic job of the platform; capabilities add theirs here."""
    return [
        PeriodicJob("purge-idempotency-keys", 600, purge_idempotency_keys),
        PeriodicJob("ledger-seal", ledger_jobs.SEAL_INTERVAL_SECONDS, ledger_jobs.seal_blocks),
        PeriodicJob("ledger-expire-pendings", ledger_jobs.EXPIRE_INTERVAL_SECONDS, ledger_jobs.void_expired_pendings),
        PeriodicJob("labels-surveillance", labels_surveillance.SWEEP_INTERVAL_SECONDS, labels_surveillance.sweep_job),
    ]


async def run_periodically(job: PeriodicJob, sessions: Sessions, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            done = await job.run(sessions)
            if done:
                log.info("job ran", job=job.name, done=done)
        except Exception:
            log.exception("job failed", job=job.name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=job.interval_seconds)


class Workers:
    """Starts every job as an asyncio task; ``stop`` ends them at their next pause."""

    def __init__(self, sessions: Sessions, jobs: list[PeriodicJob]) -> None:
        self._sessions = sessions
        self._jobs = jobs
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(run_periodically(job, self._sessions, self._stop), name=f"job:{job.name}")
            for job in self._jobs
        ]
        log.info("workers started", jobs=[job.name for job in self._jobs])

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
