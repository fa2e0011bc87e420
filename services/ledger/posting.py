"""Posting transfers: one call of the database function ``ledger_post`` per batch, inside the caller's transaction.

Capabilities that move value call ``post`` (or ``post_linked``, all or nothing) with their own session, so their
business rows and the transfers commit together. ``ledger_post`` raises serialization_failure when a transfer id was
written concurrently with other accounts; ``services.db.run_in_transaction`` retries that whole transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.ledger.codes import ResultCode, TransferFlags
from domain.ledger.transfers import TransferResult, TransferSpec, first_failure, refusal
from services.db import run_in_transaction

POST_SQL = (
    "SELECT ledger_post($1::uuid[], $2::bigint[], $3::bigint[], $4::bigint[], $5::integer[], $6::text[], "
    "$7::integer[], $8::uuid[], $9::integer[], $10::text[])"
)
# One plain or pending transfer: scalars, so neither side encodes arrays (ledger_post would route it there anyway).
POST_SINGLE_SQL = "SELECT ledger_post_single($1, $2, $3, $4, $5, $6, $7, $8, $9)"
# When the statement is its whole transaction, the id is assumed new and a taken one raises (migration 0019).
POST_SINGLE_NEW_SQL = "SELECT ledger_post_single($1, $2, $3, $4, $5, $6, $7, $8, $9, true)"
# A plain transfer whose statement is its whole transaction: one UPDATE for both accounts, and any refusal raises
# (migration 0022). Arguments: id, debit, credit, amount, asset, code, reference.
POST_ALONE_SQL = "SELECT ledger_post_alone($1, $2, $3, $4, $5, $6, $7)"
# What ledger_post_alone raises when the database refused the transfer. The statement rolled back, and
# ledger_post_single says why: not_null_violation (no id, code or amount), unique_violation of pk_transfer (a taken id),
# check_violation (a limit of an account or a rule of the transfer), numeric_value_out_of_range (a total past the
# largest bigint), and BL001 (one of the two accounts did not qualify).
_ASK_WHY = frozenset({"23502", "23505", "23514", "22003", "BL001"})
_POST_SINGLE_TEXT = text(
    "SELECT ledger_post_single(CAST(:id AS uuid), CAST(:debit AS bigint), CAST(:credit AS bigint), "
    "CAST(:amount AS bigint), CAST(:asset AS integer), CAST(:code AS text), CAST(:flags AS integer), "
    "CAST(:timeout AS integer), CAST(:reference AS text))"
)
_POST_TEXT = text(
    "SELECT ledger_post(CAST(:ids AS uuid[]), CAST(:debits AS bigint[]), CAST(:credits AS bigint[]), "
    "CAST(:amounts AS bigint[]), CAST(:assets AS integer[]), CAST(:codes AS text[]), CAST(:flags AS integer[]), "
    "CAST(:pending_ids AS uuid[]), CAST(:timeouts AS integer[]), CAST(:references AS text[]))"
)


def encode(specs: Sequence[TransferSpec]) -> tuple[list[Any], ...]:
    """The parallel arrays ``ledger_post`` takes, in its parameter order."""
    return (
        [spec.id for spec in specs],
        [spec.debit_account_id for spec in specs],
        [spec.credit_account_id for spec in specs],
        [spec.amount for spec in specs],
        [spec.asset_id for spec in specs],
        [spec.code for spec in specs],
        [int(spec.flags) for spec in specs],
        [spec.pending_id for spec in specs],
        [spec.timeout_seconds for spec in specs],
        [spec.reference for spec in specs],
    )


def _single(specs: Sequence[TransferSpec]) -> TransferSpec | None:
    if (
        len(specs) == 1
        and specs[0].flags in (TransferFlags.NONE, TransferFlags.PENDING)
        and specs[0].pending_id is None
    ):
        return specs[0]
    return None


def _single_args(spec: TransferSpec) -> tuple[Any, ...]:
    return (
        spec.id,
        spec.debit_account_id,
        spec.credit_account_id,
        spec.amount,
        spec.asset_id,
        spec.code,
        int(spec.flags),
        spec.timeout_seconds,
        spec.reference,
    )


def decode(specs: Sequence[TransferSpec], codes: Sequence[str]) -> list[TransferResult]:
    pairs = enumerate(zip(specs, codes, strict=True))
    return [TransferResult(index, spec.id, ResultCode(code)) for index, (spec, code) in pairs]


async def post(session: AsyncSession, specs: Sequence[TransferSpec]) -> list[TransferResult]:
    """Post a batch in the session's transaction; one result per transfer, in order. Refusals do not raise."""
    if not specs:
        return []
    single = _single(specs)
    if single is not None:
        fields = ("id", "debit", "credit", "amount", "asset", "code", "flags", "timeout", "reference")
        code = (
            await session.execute(_POST_SINGLE_TEXT, dict(zip(fields, _single_args(single), strict=True)))
        ).scalar_one()
        return decode(specs, [code])
    arrays = encode(specs)
    names = ("ids", "debits", "credits", "amounts", "assets", "codes", "flags", "pending_ids", "timeouts", "references")
    codes = (await session.execute(_POST_TEXT, dict(zip(names, arrays, strict=True)))).scalar_one()
    return decode(specs, codes)


async def post_with_connection(connection: asyncpg.Connection, specs: Sequence[TransferSpec]) -> list[TransferResult]:
    """The same on a bare asyncpg connection (benchmarks, bulk loaders): one round trip, no ORM."""
    if not specs:
        return []
    single = _single(specs)
    if single is None:
        codes = await connection.fetchval(POST_SQL, *encode(specs))
        return decode(specs, codes)
    if connection.is_in_transaction():
        code = await connection.fetchval(POST_SINGLE_SQL, *_single_args(single))
    elif single.flags == TransferFlags.NONE and not single.timeout_seconds:
        code = await _post_alone(connection, single)
    else:
        code = await _post_single_assumed_new(connection, _single_args(single))
    return [TransferResult(0, single.id, ResultCode(code))]


def alone_arguments(spec: TransferSpec) -> tuple[Any, ...]:
    """``ledger_post_alone``'s arguments: ``ledger_post_single``'s without the flags and the timeout (a plain
    transfer has neither)."""
    *leading, _flags, _timeout, reference = _single_args(spec)
    return (*leading, reference)


async def _post_alone(connection: asyncpg.Connection, spec: TransferSpec) -> str:
    """A plain transfer whose statement is its own transaction: ``ledger_post_alone`` writes it in two statements and
    leaves every refusal to the database's guards. If they refuse, the statement has changed nothing, and the
    ordinary call answers with the code ('exists' for a taken id, 'exceeds_credits', ...)."""
    try:
        code: str = await connection.fetchval(POST_ALONE_SQL, *alone_arguments(spec))
    except asyncpg.PostgresError as error:
        another_key = error.sqlstate == "23505" and getattr(error, "constraint_name", None) != "pk_transfer"
        if error.sqlstate not in _ASK_WHY or another_key:
            raise
        code = await connection.fetchval(POST_SINGLE_SQL, *_single_args(spec))
    return code


async def _post_single_assumed_new(connection: asyncpg.Connection, arguments: tuple[Any, ...]) -> str:
    """A pending transfer whose statement is its own transaction: a plain INSERT (migration 0019). If the id is
    taken, the failed statement has changed nothing, and the ordinary call answers as the original did."""
    try:
        code: str = await connection.fetchval(POST_SINGLE_NEW_SQL, *arguments)
    except asyncpg.UniqueViolationError as error:
        if error.constraint_name != "pk_transfer":
            raise
        code = await connection.fetchval(POST_SINGLE_SQL, *arguments)
    return code


def linked(specs: Sequence[TransferSpec]) -> list[TransferSpec]:
    """The batch as one chain: every transfer but the last carries LINKED."""
    last = len(specs) - 1
    return [
        spec.with_flags(spec.flags | TransferFlags.LINKED if index < last else spec.flags & ~TransferFlags.LINKED)
        for index, spec in enumerate(specs)
    ]


async def post_linked(session: AsyncSession, specs: Sequence[TransferSpec]) -> list[TransferResult]:
    """Post all of ``specs`` or none: raises the refusal of the transfer that failed (its code, id and index)."""
    results = await post(session, linked(specs))
    failed = first_failure(results)
    if failed is not None:
        raise refusal(failed)
    return results


async def post_in_transaction(
    sessions: async_sessionmaker[AsyncSession], specs: Sequence[TransferSpec]
) -> list[TransferResult]:
    """Post in a transaction of its own, retried whole on deadlock or serialization failure."""

    async def work(session: AsyncSession) -> list[TransferResult]:
        return await post(session, specs)

    return await run_in_transaction(sessions, work)
