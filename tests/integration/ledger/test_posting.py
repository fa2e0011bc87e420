"""Posting through ledger_post: rules, two-phase transfers, linked chains, idempotency, serials, guards."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.errors import Conflict, RuleViolation
from domain.ledger.codes import ResultCode, TransferFlags
from domain.ledger.transfers import TransferSpec
from services import ledger
from services.db import unit_of_work
from tests.integration.ledger.conftest import World

Sessions = async_sessionmaker[AsyncSession]


def spec(debit: int | None, credit: int | None, amount: int | None, **extra: object) -> TransferSpec:
    return TransferSpec(uuid.uuid4(), debit, credit, amount, str(extra.pop("code", "trade")), **extra)  # type: ignore[arg-type]


async def post(sessions: Sessions, *specs: TransferSpec) -> list[ResultCode]:
    results = await ledger.post_in_transaction(sessions, list(specs))
    return [result.code for result in results]


async def balances(sessions: Sessions, account_id: int) -> tuple[int, int, int, int]:
    async with sessions() as session:
        account = await ledger.get_account(session, account_id)
        return account.debits_posted, account.credits_posted, account.debits_pending, account.credits_pending


async def audit_ok(sessions: Sessions) -> None:
    async with sessions() as session:
        report = await ledger.audit(session)
    assert report.problems == []


async def test_single_and_batch_rules(sessions: Sessions, world: World) -> None:
    a, b = world.cny_accounts
    assert await post(sessions, spec(world.cny_source, a, 1000, code="deposit")) == [ResultCode.OK]
    assert await post(sessions, spec(a, b, 1001)) == [ResultCode.EXCEEDS_CREDITS]
    assert await post(sessions, spec(a, a, 1)) == [ResultCode.ACCOUNTS_MUST_DIFFER]
    assert await post(sessions, spec(a, b, 0)) == [ResultCode.AMOUNT_MUST_BE_POSITIVE]
    assert await post(sessions, spec(a, 999_999, 1)) == [ResultCode.CREDIT_ACCOUNT_NOT_FOUND]
    assert await post(sessions, spec(a, world.credit_accounts[0], 1)) == [ResultCode.ASSET_MISMATCH]
    assert await post(sessions, spec(b, world.cny_source, 1)) == [ResultCode.EXCEEDS_CREDITS]
    # the issuance source can take back no more than it issued
    assert await post(sessions, spec(a, world.cny_source, 1001)) == [ResultCode.EXCEEDS_CREDITS]
    # a batch applies in order: the second sees the first's effect, the failing third changes nothing
    codes = await post(sessions, spec(a, b, 600), spec(b, a, 100), spec(a, b, 600), spec(b, a, 50))
    assert codes == [ResultCode.OK, ResultCode.OK, ResultCode.EXCEEDS_CREDITS, ResultCode.OK]
    assert await balances(sessions, a) == (600, 1150, 0, 0)
    assert await balances(sessions, b) == (150, 600, 0, 0)
    await audit_ok(sessions)


async def test_idempotent_resubmission(sessions: Sessions, world: World) -> None:
    a, b = world.cny_accounts
    deposit = spec(world.cny_source, a, 500, code="deposit", reference="order 7")
    assert await post(sessions, deposit) == [ResultCode.OK]
    assert await post(sessions, deposit) == [ResultCode.EXISTS]
    changed = TransferSpec(deposit.id, world.cny_source, a, 501, "deposit", reference="order 7")
    assert await post(sessions, changed) == [ResultCode.EXISTS_WITH_DIFFERENT_AMOUNT]
    other_code = TransferSpec(deposit.id, world.cny_source, a, 500, "fee", reference="order 7")
    assert await post(sessions, other_code) == [ResultCode.EXISTS_WITH_DIFFERENT_CODE]
    # the same id twice in one batch: the second is `exists`
    again = spec(a, b, 5)
    assert await post(sessions, again, again) == [ResultCode.OK, ResultCode.EXISTS]
    assert await balances(sessions, a) == (5, 500, 0, 0)
    await audit_ok(sessions)


async def test_two_phase_post_void_and_partial(sessions: Sessions, world: World) -> None:
    a, b = world.cny_accounts
    await post(sessions, spec(world.cny_source, a, 1000, code="deposit"))
    hold = spec(a, b, 700, flags=TransferFlags.PENDING, code="freeze")
    assert await post(sessions, hold) == [ResultCode.OK]
    assert await balances(sessions, a) == (0, 1000, 700, 0)
    assert await post(sessions, spec(a, b, 301)) == [ResultCode.EXCEEDS_CREDITS]
    over = spec(None, None, 701, flags=TransferFlags.POST_PENDING, pending_id=hold.id, code="settle")
    assert await post(sessions, over) == [ResultCode.EXCEEDS_PENDING_AMOUNT]
    partial = spec(None, None, 400, flags=TransferFlags.POST_PENDING, pending_id=hold.id, code="settle")
    assert await post(sessions, partial) == [ResultCode.OK]
    assert await balances(sessions, a) == (400, 1000, 0, 0)
    assert await balances(sessions, b) == (0, 400, 0, 0)
    void = spec(None, None, None, flags=TransferFlags.VOID_PENDING, pending_id=hold.id, code="cancel")
    assert await post(sessions, void) == [ResultCode.PENDING_ALREADY_POSTED]
    second = spec(a, b, 100, flags=TransferFlags.PENDING, code="freeze")
    void2 = spec(None, None, None, flags=TransferFlags.VOID_PENDING, pending_id=second.id, code="cancel")
    post2 = spec(None, None, None, flags=TransferFlags.POST_PENDING, pending_id=second.id, code="settle")
    assert await post(sessions, second, void2, post2) == [
        ResultCode.OK,
        ResultCode.OK,
        ResultCode.PENDING_ALREADY_VOIDED,
    ]
    missing = spec(None, None, None, flags=TransferFlags.POST_PENDING, pending_id=uuid.uuid4(), code="settle")
    assert await post(sessions, missing) == [ResultCode.PENDING_NOT_FOUND]
    wrong = spec(None, None, None, flags=TransferFlags.POST_PENDING, pending_id=partial.id, code="settle")
    assert await post(sessions, wrong) == [ResultCode.PENDING_NOT_PENDING]
    assert await balances(sessions, a) == (400, 1000, 0, 0)
    await audit_ok(sessions)


async def test_linked_chain_all_or_nothing(sessions: Sessions, world: World) -> None:
    a, b = world.cny_accounts
    await post(sessions, spec(world.cny_source, a, 100, code="deposit"))
    chain = [
        spec(a, b, 60, flags=TransferFlags.LINKED),
        spec(b, a, 10, flags=TransferFlags.LINKED),
        spec(a, b, 60),  # 100 - 60 + 10 = 50 < 60: fails, so the chain fails
        spec(a, b, 1),  # independent of the chain
    ]
    assert await post(sessions, *chain) == [
        ResultCode.LINKED_EVENT_FAILED,
        ResultCode.LINKED_EVENT_FAILED,
        ResultCode.EXCEEDS_CREDITS,
        ResultCode.OK,
    ]
    assert await balances(sessions, a) == (1, 100, 0, 0)
    open_chain = [spec(a, b, 1, flags=TransferFlags.LINKED), spec(a, b, 1, flags=TransferFlags.LINKED)]
    assert await post(sessions, *open_chain) == [ResultCode.LINKED_EVENT_FAILED, ResultCode.LINKED_EVENT_CHAIN_OPEN]
    async with unit_of_work(sessions) as session:
        with pytest.raises(RuleViolation) as refused:
            await ledger.post_linked(session, [spec(a, b, 10), spec(a, b, 1000), spec(a, b, 1)])
    assert refused.value.code == "exceeds_credits"
    assert refused.value.context["index"] == 1
    assert await balances(sessions, a) == (1, 100, 0, 0)
    async with unit_of_work(sessions) as session:
        first = spec(a, b, 5)
        await ledger.post(session, [first])
        with pytest.raises(Conflict) as conflict:
            await ledger.post_linked(session, [TransferSpec(first.id, a, b, 6, "trade")])
    assert conflict.value.code == "exists_with_different_amount"
    await audit_ok(sessions)


async def test_retired_account_is_never_debited(sessions: Sessions, world: World) -> None:
    holder = world.credit_accounts[0]
    assert await post(sessions, spec(world.credit_source, holder, 10, code="issue")) == [ResultCode.OK]
    assert await post(sessions, spec(holder, world.retired, 4, code="retire")) == [ResultCode.OK]
    assert await post(sessions, spec(world.retired, holder, 1)) == [ResultCode.DEBIT_ACCOUNT_RETIRED]
    async with unit_of_work(sessions) as session:
        with pytest.raises(DBAPIError, match="ck_account_retired_never_debited"):
            await session.execute(text("UPDATE account SET debits_posted = 1 WHERE id = :id"), {"id": world.retired})
    await audit_ok(sessions)


async def test_serial_ranges_split_and_history(sessions: Sessions, world: World) -> None:
    first, second = world.credit_accounts
    assert await post(sessions, spec(world.credit_source, first, 100, code="issue")) == [ResultCode.OK]
    assert await post(sessions, spec(first, second, 30), spec(first, world.retired, 20, code="retire")) == [
        ResultCode.OK,
        ResultCode.OK,
    ]
    assert await post(sessions, spec(world.credit_source, first, 10, code="issue")) == [ResultCode.OK]
    async with sessions() as session:
        held = [(row.first_serial, row.last_serial) for row in await ledger.serial_ranges(session, first)]
        assert held == [(51, 110)]
        assert [(r.first_serial, r.last_serial) for r in await ledger.serial_ranges(session, second)] == [(1, 30)]
        holding = await ledger.lookup_serial(session, world.credits, 35)
        assert holding.account_id == world.retired
        assert [(move.from_account_id, move.to_account_id) for move in holding.history] == [
            (world.credit_source, first),
            (first, world.retired),
        ]
    await audit_ok(sessions)


async def test_transfers_are_append_only(sessions: Sessions, world: World) -> None:
    a, _ = world.cny_accounts
    await post(sessions, spec(world.cny_source, a, 10, code="deposit"))
    for statement in ("UPDATE transfer SET amount = 11", "DELETE FROM transfer"):
        async with unit_of_work(sessions) as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(statement))
    async with unit_of_work(sessions) as session:
        with pytest.raises(DBAPIError, match=r"its credit account .* does not hold asset"):
            await session.execute(
                text(
                    "INSERT INTO transfer (id, debit_account_id, credit_account_id, asset_id, amount, code) "
                    "VALUES (gen_random_uuid(), :a, :b, :asset, 1, 'forged')"
                ),
                {"a": world.cny_source, "b": world.credit_accounts[0], "asset": world.cny},
            )


async def test_timeouts_void_expired_pendings(sessions: Sessions, world: World) -> None:
    a, b = world.cny_accounts
    await post(sessions, spec(world.cny_source, a, 100, code="deposit"))
    short = spec(a, b, 30, flags=TransferFlags.PENDING, timeout_seconds=1, code="freeze")
    long = spec(a, b, 20, flags=TransferFlags.PENDING, timeout_seconds=3600, code="freeze")
    assert await post(sessions, short, long) == [ResultCode.OK, ResultCode.OK]
    async with unit_of_work(sessions) as session:
        assert await ledger.expire_pendings(session) == 0
    # database time moves on: backdate the expiry as the clock would (the guard triggers are off for this session)
    async with unit_of_work(sessions) as session:
        await session.execute(text("SET LOCAL session_replication_role = replica"))
        await session.execute(
            text("UPDATE transfer SET expires_at = now() - interval '1 second' WHERE id = :id"), {"id": short.id}
        )
        await session.execute(
            text("UPDATE pending_expiry SET expires_at = now() - interval '1 second' WHERE pending_id = :id"),
            {"id": short.id},
        )
    settle = spec(None, None, None, flags=TransferFlags.POST_PENDING, pending_id=short.id, code="settle")
    assert await post(sessions, settle) == [ResultCode.PENDING_EXPIRED]
    async with unit_of_work(sessions) as session:
        assert await ledger.expire_pendings(session) == 1
    async with unit_of_work(sessions) as session:
        assert await ledger.expire_pendings(session) == 0
    assert await balances(sessions, a) == (0, 100, 20, 0)
    assert await post(sessions, settle) == [ResultCode.PENDING_ALREADY_VOIDED]
    await audit_ok(sessions)


async def test_forged_resolutions_are_refused_by_the_database(sessions: Sessions, world: World) -> None:
    """Direct INSERTs, below ledger_post: a post or void must match its pending, an account must carry the asset."""
    a, b = world.cny_accounts
    await post(sessions, spec(world.cny_source, a, 100, code="deposit"))
    pending = spec(a, b, 40, flags=TransferFlags.PENDING, code="freeze")
    plain = spec(a, b, 5)
    assert await post(sessions, pending, plain) == [ResultCode.OK, ResultCode.OK]
    insert = text(
        "INSERT INTO transfer (id, debit_account_id, credit_account_id, asset_id, amount, code, post_pending, "
        "void_pending, pending_id) VALUES (gen_random_uuid(), :d, :c, :asset, :amount, 'forged', :post, :void, :p)"
    )
    forged = [
        (a, b, 41, True, False, pending.id),  # more than the pending holds
        (a, b, 39, False, True, pending.id),  # a void takes the whole amount
        (b, a, 40, True, False, pending.id),  # other accounts than the pending's
        (a, b, 5, True, False, plain.id),  # not a pending
        (a, b, 5, True, False, uuid.uuid4()),  # no such transfer
    ]
    for debit, credit, amount, is_post, is_void, pending_id in forged:
        async with unit_of_work(sessions) as session:
            with pytest.raises(DBAPIError, match="must match its pending"):
                await session.execute(
                    insert,
                    {
                        "d": debit,
                        "c": credit,
                        "asset": world.cny,
                        "amount": amount,
                        "post": is_post,
                        "void": is_void,
                        "p": pending_id,
                    },
                )
    async with unit_of_work(sessions) as session:
        with pytest.raises(DBAPIError, match=r"its debit account .* does not hold asset"):
            await session.execute(
                insert,
                {
                    "d": world.credit_accounts[0],
                    "c": b,
                    "asset": world.cny,
                    "amount": 1,
                    "post": False,
                    "void": False,
                    "p": None,
                },
            )
    # the matching resolution passes the guards (it bypasses ledger_post, so balances are not checked here)
    async with unit_of_work(sessions) as session:
        await session.execute(
            insert, {"d": a, "c": b, "asset": world.cny, "amount": 40, "post": False, "void": True, "p": pending.id}
        )
    async with sessions() as session:
        count = await session.scalar(text("SELECT count(*) FROM transfer WHERE pending_id = :p"), {"p": pending.id})
    assert count == 1
