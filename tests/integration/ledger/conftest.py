"""A small ledger world: a currency and a credit batch, an issuance source and holdings for two organisations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.identity.roles import Role
from domain.ledger.codes import AssetKind, Purpose
from services import ledger
from services.db import unit_of_work
from services.identity import service as identity


@dataclass(frozen=True)
class World:
    cny: int
    credits: int
    organisations: tuple[uuid.UUID, uuid.UUID]
    cny_source: int
    cny_accounts: tuple[int, int]
    cny_held: tuple[int, int]
    credit_source: int
    credit_accounts: tuple[int, int]
    retired: int


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession]) -> World:
    async with unit_of_work(sessions) as session:
        orgs = []
        for name in ("alpha", "beta"):
            org = await identity.create_organisation(
                session, name=f"{name} {uuid.uuid4().hex[:6]}", role=Role.ENTERPRISE, actor=None
            )
            orgs.append(org.id)
        cny = await ledger.ensure_asset(session, code="CNY", kind=AssetKind.CURRENCY, name="Renminbi", unit="fen")
        credits = await ledger.ensure_asset(
            session, code="BSC-T1-2025", kind=AssetKind.CREDIT_BATCH, name="Test credits", unit="tCO2e"
        )
        cny_source = await ledger.open_account(session, asset_id=cny.id, owner_id=None, purpose=Purpose.ISSUANCE)
        cny_accounts = [
            await ledger.open_account(session, asset_id=cny.id, owner_id=org, purpose=Purpose.AVAILABLE) for org in orgs
        ]
        cny_held = [
            await ledger.open_account(session, asset_id=cny.id, owner_id=org, purpose=Purpose.HELD) for org in orgs
        ]
        credit_source = await ledger.open_account(session, asset_id=credits.id, owner_id=None, purpose=Purpose.ISSUANCE)
        credit_accounts = [
            await ledger.open_account(session, asset_id=credits.id, owner_id=org, purpose=Purpose.AVAILABLE)
            for org in orgs
        ]
        retired = await ledger.open_account(session, asset_id=credits.id, owner_id=None, purpose=Purpose.RETIRED)
        return World(
            cny.id,
            credits.id,
            (orgs[0], orgs[1]),
            cny_source.id,
            (cny_accounts[0].id, cny_accounts[1].id),
            (cny_held[0].id, cny_held[1].id),
            credit_source.id,
            (credit_accounts[0].id, credit_accounts[1].id),
            retired.id,
        )


async def refused(
    sessions: async_sessionmaker[AsyncSession],
    statement: str,
    params: dict[str, object],
    rule: str,
    *,
    sqlstate: str = "23514",
    match: str | None = None,
) -> DBAPIError:
    """``statement`` fails with ``sqlstate`` (check_violation unless told) and names ``rule`` as the constraint that
    asyncpg reports (a domain's rule is named by itself, not by the table CHECK that casts to the domain); its
    message matches ``match``, by default the rule's name. Returns the error."""
    async with sessions() as session, session.begin():
        with pytest.raises(DBAPIError, match=match or rule) as failure:
            await session.execute(text(statement), params)
    error = failure.value.orig
    assert getattr(error, "sqlstate", None) == sqlstate
    assert getattr(error.__cause__, "constraint_name", None) == rule
    return failure.value


async def transfer_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int((await session.execute(text("SELECT count(*) FROM transfer"))).scalar_one())


# A transfer written around the posting functions, to show what the database refuses by itself.
DIRECT_TRANSFER = (
    "INSERT INTO transfer (id, debit_account_id, credit_account_id, asset_id, amount, code, pending, post_pending, "
    "pending_id, timeout_seconds, expires_at, reference) VALUES (COALESCE(CAST(:id AS uuid), gen_random_uuid()), "
    ":debit, :credit, :asset, :amount, :code, :pending, :post_pending, CAST(:pending_id AS uuid), :timeout, "
    "CASE WHEN :expires THEN now() END, :reference)"
)


def direct_transfer(world: World, *, same_accounts: bool = False, **changes: object) -> dict[str, object]:
    """The parameters of ``DIRECT_TRANSFER``: a legal plain transfer between the two CNY holders, with ``changes``."""
    debit, credit = world.cny_accounts
    plain: dict[str, object] = {
        "id": None,  # a new random id
        "debit": debit,
        "credit": debit if same_accounts else credit,
        "asset": world.cny,
        "amount": 5,
        "code": "trade",
        "pending": False,
        "post_pending": False,
        "pending_id": None,
        "timeout": None,
        "expires": False,
        "reference": None,
    }
    return plain | changes
