"""Group commit: single transfers from many concurrent callers share commits, as TigerBeetle batches its clients.

A transfer of its own pays a whole commit: a call of ``ledger_post_single``, two account UPDATEs, the INSERT and the
WAL flush. Where many callers post one transfer each at the same moment (settlement workers, bulk issuance, the
hot accounts of issuers and fees), ``GroupCommitter`` queues them and a few writers post whatever has queued as one
``ledger_post`` batch, in one transaction (DESIGN.md: "batch the requests of a few milliseconds into one commit").

What a caller can rely on:
- ``submit`` returns the transfer's own result only after the commit that holds it: an acknowledged transfer is
  durable, exactly as with a commit of its own.
- Transfers of one batch are independent (never LINKED): a refusal answers its own caller and no other. A linked
  chain is one business action and goes through ``post_linked`` in the caller's transaction instead.
- The same id submitted twice, in one batch or in two, is posted once (``exists`` answers the repeat).
- A batch that meets a deadlock or a serialization failure is posted again whole (nothing of it committed); any
  other error fails every caller of that batch, and the committer carries on with the next. A writer whose
  connection was lost opens a new one. A caller that got an error, rather than a result, does not know whether its
  transfer committed (the connection may have died in COMMIT): it submits the same id again and learns ``ok`` or
  ``exists``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg

from domain.ledger.codes import TransferFlags
from domain.ledger.transfers import TransferResult, TransferSpec
from services.db import RETRYABLE_SQLSTATES
from services.ledger.posting import post_with_connection

Connect = Callable[[], Awaitable[asyncpg.Connection]]


@dataclass
class _Request:
    spec: TransferSpec
    answer: asyncio.Future[TransferResult]


@dataclass
class GroupCommitStats:
    """How the committer has batched so far: transfers, commits and retried batches."""

    transfers: int = 0
    commits: int = 0
    retries: int = 0
    failed_batches: int = 0
    reconnects: int = 0
    largest_batch: int = 0

    @property
    def mean_batch(self) -> float:
        return self.transfers / self.commits if self.commits else 0.0


class GroupCommitter:
    """Posts submitted transfers in shared commits through ``writers`` connections of its own."""

    def __init__(self, connect: Connect, *, writers: int = 2, max_batch: int = 1_000, attempts: int = 8) -> None:
        if writers < 1 or max_batch < 1 or attempts < 1:
            raise ValueError("writers, max_batch and attempts must be positive")
        self._connect = connect
        self._writers = writers
        self._max_batch = max_batch
        self._attempts = attempts
        self._queue: asyncio.Queue[_Request] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._connections: list[asyncpg.Connection] = []
        self.stats = GroupCommitStats()

    async def __aenter__(self) -> GroupCommitter:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def start(self) -> None:
        if self._tasks:
            return
        self._connections = [await self._connect() for _ in range(self._writers)]
        self._tasks = [asyncio.create_task(self._write(slot)) for slot in range(self._writers)]

    async def close(self) -> None:
        """Finish what is queued, then stop the writers and close their connections."""
        await self._queue.join()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for connection in self._connections:
            if not connection.is_closed():
                await connection.close()
        self._tasks, self._connections = [], []

    async def submit(self, spec: TransferSpec) -> TransferResult:
        """Post one transfer in the next shared commit; its result (index 0) once that commit is durable."""
        if TransferFlags.LINKED in spec.flags:
            raise ValueError("a linked transfer belongs to a chain: post the chain with post_linked")
        if not self._tasks:
            raise RuntimeError("the group committer is not running")
        answer: asyncio.Future[TransferResult] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Request(spec, answer))
        return await answer

    def _take_batch(self, first: _Request) -> list[_Request]:
        batch = [first]
        while len(batch) < self._max_batch:
            try:
                batch.append(self._queue.get_nowait())
            except asyncio.QueueEmpty:
                break
        return batch

    async def _write(self, slot: int) -> None:
        while True:
            batch = self._take_batch(await self._queue.get())
            try:
                connection = await self._connection(slot)
                results = await self._post(connection, [request.spec for request in batch])
            except Exception as error:  # every caller of the batch learns of the failure
                self.stats.failed_batches += 1
                # The connection may be broken half-way through a protocol exchange: the next batch gets a new one.
                self._connections[slot].terminate()
                for request in batch:
                    if not request.answer.done():
                        request.answer.set_exception(error)
            else:
                self.stats.transfers += len(batch)
                self.stats.commits += 1
                self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
                for request, result in zip(batch, results, strict=True):
                    if not request.answer.done():
                        request.answer.set_result(TransferResult(0, result.id, result.code))
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _connection(self, slot: int) -> asyncpg.Connection:
        """The writer's connection, opened again if the server or the network closed it."""
        if self._connections[slot].is_closed():
            self._connections[slot] = await self._connect()
            self.stats.reconnects += 1
        return self._connections[slot]

    async def _post(self, connection: asyncpg.Connection, specs: list[TransferSpec]) -> list[TransferResult]:
        for attempt in range(1, self._attempts + 1):
            try:
                # One statement outside a transaction block commits on its own: one round trip, not three.
                return await post_with_connection(connection, specs)
            except asyncpg.PostgresError as error:  # the same failures as services.db.run_in_transaction retries
                if error.sqlstate not in RETRYABLE_SQLSTATES or attempt == self._attempts:
                    raise
                self.stats.retries += 1
                await asyncio.sleep(0.001 * attempt)
        raise AssertionError("unreachable")
