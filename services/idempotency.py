"""Idempotent execution of mutating requests.

The key, a hash of the request and the response are stored in PostgreSQL in the same transaction as the effect,
so a stored response exists exactly when the effect committed. A concurrent duplicate blocks on the unique key
until the first commits (then replays its response) or rolls back (then runs itself); it waits at most
``WAIT_SECONDS`` and is then refused with ``idempotency_in_progress``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, LargeBinary, Text, func, select, text, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from domain.errors import Conflict, RuleViolation
from services.db import Base, run_in_transaction, sqlstate

WAIT_SECONDS = 10
LOCK_NOT_AVAILABLE = "55P03"


class IdempotencyKey(Base):
    __tablename__ = "idempotency_key"

    principal: Mapped[str] = mapped_column(Text, primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    method: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(Text)
    request_hash: Mapped[bytes] = mapped_column(LargeBinary)
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[Any] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


@dataclass(frozen=True)
class IdempotentRequest:
    principal: str
    key: str | None
    method: str
    path: str
    request_hash: bytes


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: Any
    replayed: bool


def request_fingerprint(method: str, path: str, body: bytes) -> bytes:
    """SHA-256 of the request; JSON bodies are canonicalised so whitespace and key order do not matter."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode() if body else b""
    except ValueError:
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).digest()


async def _claim(session: AsyncSession, request: IdempotentRequest) -> StoredResponse | None:
    """Take the key for this transaction, or return the response stored under it."""
    await session.execute(text(f"SET LOCAL lock_timeout = '{WAIT_SECONDS}s'"))
    try:
        claimed = await session.scalar(
            insert(IdempotencyKey)
            .values(
                principal=request.principal,
                key=request.key,
                method=request.method,
                path=request.path,
                request_hash=request.request_hash,
            )
            .on_conflict_do_nothing()
            .returning(IdempotencyKey.key)
        )
    except DBAPIError as error:
        if sqlstate(error) == LOCK_NOT_AVAILABLE:
            raise Conflict(
                "a request with this Idempotency-Key is still in progress; retry later",
                code="idempotency_in_progress",
            ) from error
        raise
    await session.execute(text("SET LOCAL lock_timeout = DEFAULT"))
    if claimed is not None:
        return None
    stored = (
        await session.execute(
            select(IdempotencyKey).where(
                IdempotencyKey.principal == request.principal, IdempotencyKey.key == request.key
            )
        )
    ).scalar_one()
    if (stored.method, stored.path, stored.request_hash) != (
        request.method,
        request.path,
        request.request_hash,
    ):
        raise RuleViolation(
            "this Idempotency-Key was used with a different request; use a new key for a new request",
            code="idempotency_key_reused",
        )
    if stored.status_code is None:  # only possible if an effect committed without completing: a bug
        raise Conflict("the request with this Idempotency-Key did not complete", code="idempotency_in_progress")
    return StoredResponse(stored.status_code, stored.response_body, replayed=True)


async def execute(
    sessions: async_sessionmaker[AsyncSession],
    request: IdempotentRequest,
    effect: Callable[[AsyncSession], Awaitable[Any]],
    *,
    status_code: int,
) -> StoredResponse:
    """Run ``effect`` once per key: in one transaction with the key's record, retried whole on deadlock."""

    async def work(session: AsyncSession) -> StoredResponse:
        if request.key is not None:
            stored = await _claim(session, request)
            if stored is not None:
                return stored
        body = await effect(session)
        if request.key is not None:
            await session.execute(
                update(IdempotencyKey)
                .where(IdempotencyKey.principal == request.principal, IdempotencyKey.key == request.key)
                .values(status_code=status_code, response_body=body)
            )
        return StoredResponse(status_code, body, replayed=False)

    return await run_in_transaction(sessions, work)


async def purge_older_than(session: AsyncSession, hours: int) -> int:
    result = await session.execute(
        text("DELETE FROM idempotency_key WHERE created_at < now() - make_interval(hours => :hours)"),
        {"hours": hours},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
