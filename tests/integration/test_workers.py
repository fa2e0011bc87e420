"""Background jobs: they run on schedule, survive a failing run, and stop when asked."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services import idempotency
from services.db import unit_of_work
from services.workers import PeriodicJob, Workers, purge_idempotency_keys


async def test_purge_removes_only_keys_past_retention(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with unit_of_work(sessions) as session:
        for key, age_hours in (("old", 30), ("fresh", 1)):
            await session.execute(
                text(
                    "INSERT INTO idempotency_key (principal, key, method, path, request_hash, created_at) "
                    "VALUES ('org:x', :key, 'POST', '/v1/x', '\\x00', now() - make_interval(hours => :age))"
                ),
                {"key": key, "age": age_hours},
            )
    assert await purge_idempotency_keys(sessions) == 1
    async with sessions() as session:
        left = (await session.execute(select(idempotency.IdempotencyKey.key))).scalars().all()
    assert left == ["fresh"]


async def test_a_failing_job_keeps_running_and_workers_stop_cleanly(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    runs: list[int] = []

    async def flaky(_: async_sessionmaker[AsyncSession]) -> int:
        runs.append(len(runs))
        if len(runs) % 2:
            raise RuntimeError("boom")
        async with sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(idempotency.IdempotencyKey)) or 0)

    workers = Workers(sessions, [PeriodicJob("flaky", 0.01, flaky)])
    workers.start()
    await asyncio.sleep(0.2)
    await asyncio.wait_for(workers.stop(), timeout=2)
    count = len(runs)
    assert count >= 4
    await asyncio.sleep(0.05)
    assert len(runs) == count
