"""Every query of the ledger's tables: assets, accounts, transfers, statements, serial holdings and history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, tuple_, union_all
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import NotFound
from domain.ledger.codes import DEFAULT_FLAGS, AccountFlags, AssetKind, Purpose
from services.ledger.tables import Account, Asset, SerialMovement, SerialRangeRow, Transfer


async def ensure_asset(
    session: AsyncSession, *, code: str, kind: AssetKind, name: str, unit: str, scale: int = 0
) -> Asset:
    """The asset with this code, created if missing (the other fields are taken only on creation)."""
    await session.execute(
        insert(Asset)
        .values(code=code, kind=kind.value, name=name, unit=unit, scale=scale)
        .on_conflict_do_nothing(index_elements=[Asset.code])
    )
    return (await session.execute(select(Asset).where(Asset.code == code))).scalar_one()


async def get_asset(session: AsyncSession, asset_id: int) -> Asset:
    asset = await session.get(Asset, asset_id)
    if asset is None:
        raise NotFound(f"no asset {asset_id}", code="asset_not_found")
    return asset


async def find_asset(session: AsyncSession, code: str) -> Asset | None:
    return (await session.execute(select(Asset).where(Asset.code == code))).scalar_one_or_none()


async def open_account(
    session: AsyncSession,
    *,
    asset_id: int,
    owner_id: uuid.UUID | None,
    purpose: Purpose | str,
    flags: AccountFlags | None = None,
    sub_account: int = 0,
) -> Account:
    """The account of (owner, asset, purpose, sub-account), opened if missing with the purpose's default flags.

    ``owner_id`` None is a system account (issuance source, fee pool, buffer pool).
    """
    purpose_name = purpose.value if isinstance(purpose, Purpose) else purpose
    known = purpose_name in {item.value for item in Purpose}
    chosen = flags or (DEFAULT_FLAGS.get(Purpose(purpose_name)) if known else None) or AccountFlags()
    await session.execute(
        insert(Account)
        .values(
            asset_id=asset_id,
            owner_id=owner_id,
            purpose=purpose_name,
            sub_account=sub_account,
            debits_must_not_exceed_credits=chosen.debits_must_not_exceed_credits,
            credits_must_not_exceed_debits=chosen.credits_must_not_exceed_debits,
            retired=chosen.retired,
        )
        .on_conflict_do_nothing()
    )
    found = await find_account(
        session, asset_id=asset_id, owner_id=owner_id, purpose=purpose_name, sub_account=sub_account
    )
    assert found is not None
    return found


async def find_account(
    session: AsyncSession, *, asset_id: int, owner_id: uuid.UUID | None, purpose: str, sub_account: int = 0
) -> Account | None:
    owner_matches = Account.owner_id.is_(None) if owner_id is None else Account.owner_id == owner_id
    query = select(Account).where(
        Account.asset_id == asset_id, owner_matches, Account.purpose == purpose, Account.sub_account == sub_account
    )
    return (await session.execute(query.execution_options(populate_existing=True))).scalar_one_or_none()


async def get_account(session: AsyncSession, account_id: int) -> Account:
    account = (
        await session.execute(select(Account).where(Account.id == account_id).execution_options(populate_existing=True))
    ).scalar_one_or_none()
    if account is None:
        raise NotFound(f"no account {account_id}", code="account_not_found")
    return account


async def list_accounts(
    session: AsyncSession, *, owner_id: uuid.UUID | None, all_owners: bool, after: int | None, limit: int
) -> list[Account]:
    query = select(Account).order_by(Account.id).limit(limit)
    if not all_owners:
        query = query.where(Account.owner_id == owner_id)
    if after is not None:
        query = query.where(Account.id > after)
    return list((await session.execute(query.execution_options(populate_existing=True))).scalars())


async def get_transfer(session: AsyncSession, transfer_id: uuid.UUID) -> Transfer | None:
    return (await session.execute(select(Transfer).where(Transfer.id == transfer_id))).scalar_one_or_none()


async def get_transfers(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Transfer]:
    rows = (await session.execute(select(Transfer).where(Transfer.id.in_(ids)))).scalars()
    return {row.id: row for row in rows}


async def statement(session: AsyncSession, account_id: int, *, after_seq: int | None, limit: int) -> list[Transfer]:
    """The account's transfers, newest first (by sequence), ``limit`` of them after the cursor's ``seq``.

    Two backward scans of the (account, seq) indexes, each stopping at ``limit``, merged: a page costs the same on an
    account with ten transfers or ten million (an OR of both sides would sort the account's whole history).
    """
    sides = []
    for column in (Transfer.debit_account_id, Transfer.credit_account_id):
        side = select(Transfer.id, Transfer.seq).where(column == account_id)
        if after_seq is not None:
            side = side.where(Transfer.seq < after_seq)
        sides.append(side.order_by(Transfer.seq.desc()).limit(limit))
    newest = union_all(*sides).subquery()
    query = select(Transfer).join(newest, newest.c.id == Transfer.id).order_by(Transfer.seq.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


@dataclass(frozen=True)
class SerialHolding:
    asset_id: int
    serial: int
    account_id: int | None  # None: the serial left circulation (returned to its source) or was never minted
    range_first: int | None
    range_last: int | None
    history: list[SerialMovement]


async def serial_ranges(session: AsyncSession, account_id: int) -> list[SerialRangeRow]:
    query = select(SerialRangeRow).where(SerialRangeRow.account_id == account_id).order_by(SerialRangeRow.first_serial)
    return list((await session.execute(query)).scalars())


async def lookup_serial(session: AsyncSession, asset_id: int, serial: int) -> SerialHolding:
    holding = (
        await session.execute(
            select(SerialRangeRow)
            .where(SerialRangeRow.asset_id == asset_id, SerialRangeRow.first_serial <= serial)
            .order_by(SerialRangeRow.first_serial.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if holding is not None and holding.last_serial < serial:
        holding = None
    history_query = (
        select(SerialMovement)
        .join(Transfer, Transfer.id == SerialMovement.transfer_id)
        .where(
            SerialMovement.asset_id == asset_id,
            SerialMovement.first_serial <= serial,
            SerialMovement.last_serial >= serial,
        )
        .order_by(tuple_(Transfer.seq, SerialMovement.id))
    )
    history = list((await session.execute(history_query)).scalars())
    if holding is None and not history:
        raise NotFound(f"serial {serial} of asset {asset_id} was never issued", code="serial_not_found")
    return SerialHolding(
        asset_id,
        serial,
        holding.account_id if holding else None,
        holding.first_serial if holding else None,
        holding.last_serial if holding else None,
        history,
    )
