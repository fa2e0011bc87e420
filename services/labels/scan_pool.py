"""A small asyncpg pool for public label verification, beside the engine's own pool.

Why a pool of its own: the scan a verification records is a signal for the counterfeit rule, not a promise made to
anyone, so its commit need not wait for the WAL flush: these connections alone run with ``synchronous_commit = off``
(a crash may lose the last fraction of a second of scans, never a certificate, code or transfer). Checking a raw
connection out of asyncpg's pool also costs less than a SQLAlchemy checkout, and the hot path makes one statement,
which leaves the connection clean, so the per-release reset round trip is skipped.

The pool lives as long as its engine: created on first use, terminated when the engine is disposed.
"""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from services.db import to_asyncpg_dsn

_pools: dict[int, asyncio.Task[asyncpg.Pool]] = {}


async def _no_reset(connection: asyncpg.Connection) -> None:
    """Verification runs single autocommit statements: nothing to reset between uses."""


async def _create(engine: AsyncEngine) -> asyncpg.Pool:
    size = max(2, int(getattr(engine.sync_engine.pool, "size", lambda: 10)()))
    return await asyncpg.create_pool(
        to_asyncpg_dsn(engine.url.render_as_string(hide_password=False)),
        min_size=1,
        max_size=size,
        reset=_no_reset,
        server_settings={"synchronous_commit": "off", "application_name": "bashan-verify"},
    )


def _terminate(key: int) -> None:
    task = _pools.pop(key, None)
    if task is None:
        return
    if task.done() and not task.cancelled() and task.exception() is None:
        task.result().terminate()
    else:
        task.cancel()


async def pool_for(engine: AsyncEngine) -> asyncpg.Pool:
    key = id(engine.sync_engine)
    task = _pools.get(key)
    if task is None:
        task = asyncio.ensure_future(_create(engine))
        _pools[key] = task

        def disposed(_: Engine) -> None:
            _terminate(key)

        event.listen(engine.sync_engine, "engine_disposed", disposed)
    try:
        return await task
    except Exception:
        _pools.pop(key, None)  # the next request tries again
        raise
