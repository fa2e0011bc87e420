"""Credits in holders' hands: transfers between holders, retirement (final, with a certificate) and cancellation.

Every movement is a ledger transfer; retired and cancelled credits land in accounts the ledger never debits, so they
can never move again. The serial ranges a retirement or cancellation took are read back from the ledger's serial
movements of its transfer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import NotFound, RuleViolation
from domain.identity.roles import Role
from domain.ledger.codes import Purpose
from domain.ledger.ids import new_transfer_id
from domain.ledger.transfers import TransferSpec
from domain.registry.serials import MAX_VINTAGE, MIN_VINTAGE, format_block, parse_block
from services import ledger
from services.audit import record
from services.config import Settings
from services.documents.certificate import RetirementCertificate, render_retirement_certificate
from services.identity import service as identity
from services.identity.service import Principal
from services.ledger.tables import Account, Asset
from services.registry.issuance import moved_ranges
from services.registry.tables import Cancellation, IssuanceRow, Project, Retirement

HOLDER_ROLES = frozenset({Role.PROJECT_OWNER.value, Role.ENTERPRISE.value, Role.BANK.value})


@dataclass(frozen=True)
class Batch:
    asset: Asset
    project: Project
    vintage: int


async def load_batch(session: AsyncSession, asset_code: str) -> Batch:
    found = (
        await session.execute(
            select(Asset, Project, IssuanceRow.vintage)
            .join(IssuanceRow, IssuanceRow.asset_id == Asset.id)
            .join(Project, Project.id == IssuanceRow.project_id)
            .where(Asset.code == asset_code)
            .limit(1)
        )
    ).first()
    if found is None:
        raise NotFound(f"no credit batch {asset_code}", code="batch_not_found")
    return Batch(found[0], found[1], int(found[2]))


async def _holding(session: AsyncSession, batch: Batch, holder: uuid.UUID) -> Account:
    account = await ledger.find_account(
        session, asset_id=batch.asset.id, owner_id=holder, purpose=Purpose.AVAILABLE.value
    )
    if account is None:
        raise RuleViolation(f"you hold no credits of {batch.asset.code}", code="exceeds_credits")
    return account


def blocks(project_code: str, vintage: int, ranges: list[list[int]]) -> list[str]:
    return [format_block(project_code, vintage, first, last) for first, last in ranges]


async def _move(
    session: AsyncSession, batch: Batch, source_id: int, target_id: int, quantity: int, code: str, reference: str
) -> tuple[uuid.UUID, list[list[int]]]:
    """One ledger transfer of ``quantity`` credits of the batch; returns its id and the serial ranges it moved."""
    transfer_id = new_transfer_id()
    await ledger.post_linked(
        session,
        [
            TransferSpec(
                transfer_id, source_id, target_id, quantity, code, asset_id=batch.asset.id, reference=reference[:500]
            )
        ],
    )
    return transfer_id, await moved_ranges(session, transfer_id)


async def transfer(
    session: AsyncSession, principal: Principal, *, asset_code: str, quantity: int, recipient_id: uuid.UUID
) -> tuple[uuid.UUID, list[str]]:
    batch = await load_batch(session, asset_code)
    recipient = await identity.get_organisation(session, recipient_id)
    if recipient.role not in HOLDER_ROLES:
        raise RuleViolation(f"{recipient.name} ({recipient.role}) cannot hold credits", code="recipient_cannot_hold")
    if recipient.id == principal.organisation_id:
        raise RuleViolation("a transfer needs another holder as recipient", code="accounts_must_differ")
    source = await _holding(session, batch, principal.organisation_id)
    target = await ledger.open_account(
        session, asset_id=batch.asset.id, owner_id=recipient.id, purpose=Purpose.AVAILABLE
    )
    transfer_id, moved = await _move(
        session, batch, source.id, target.id, quantity, "transfer", f"credit-transfer:{recipient.id}"
    )
    serials = blocks(batch.project.code, batch.vintage, moved)
    await record(
        session,
        principal.actor,
        "credits.transfer",
        "transfer",
        transfer_id,
        {"asset": asset_code, "quantity": quantity, "to": str(recipient.id), "serials": serials},
    )
    return transfer_id, serials


async def _next_number(session: AsyncSession, sequence: str, prefix: str) -> str:
    value = await session.scalar(select(func.nextval(sequence)))
    return f"{prefix}-{datetime.now(UTC).year}-{int(value or 0):06d}"


async def retire(
    session: AsyncSession,
    principal: Principal,
    *,
    asset_code: str,
    quantity: int,
    beneficiary: str,
    purpose: str,
    claim_start: date,
    claim_end: date,
) -> Retirement:
    if claim_end < claim_start:
        raise RuleViolation("the claim period ends before it starts", code="invalid_claim_period")
    if claim_start.year < MIN_VINTAGE or claim_end.year > MAX_VINTAGE:
        # A retirement offsets emissions of a stated period; it lies among the years credits can be dated in.
        raise RuleViolation(
            f"the claim period must lie within {MIN_VINTAGE}-01-01 to {MAX_VINTAGE}-12-31", code="invalid_claim_period"
        )
    batch = await load_batch(session, asset_code)
    source = await _holding(session, batch, principal.organisation_id)
    retired = await ledger.open_account(
        session, asset_id=batch.asset.id, owner_id=principal.organisation_id, purpose=Purpose.RETIRED
    )
    transfer_id, moved = await _move(
        session, batch, source.id, retired.id, quantity, "retire", f"retirement:{beneficiary}"
    )
    row = Retirement(
        number=await _next_number(session, "retirement_number_seq", "BSR"),
        holder_id=principal.organisation_id,
        asset_id=batch.asset.id,
        project_id=batch.project.id,
        vintage=batch.vintage,
        quantity=quantity,
        beneficiary=beneficiary,
        purpose=purpose,
        claim_start=claim_start,
        claim_end=claim_end,
        serial_ranges=moved,
        transfer_id=transfer_id,
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    await record(
        session,
        principal.actor,
        "credits.retire",
        "retirement",
        row.id,
        {"number": row.number, "asset": asset_code, "quantity": quantity, "beneficiary": beneficiary},
    )
    return row


async def cancel(
    session: AsyncSession, principal: Principal, *, asset_code: str, quantity: int, reason: str
) -> Cancellation:
    batch = await load_batch(session, asset_code)
    source = await _holding(session, batch, principal.organisation_id)
    cancelled = await ledger.open_account(
        session, asset_id=batch.asset.id, owner_id=principal.organisation_id, purpose=Purpose.CANCELLED
    )
    transfer_id, moved = await _move(session, batch, source.id, cancelled.id, quantity, "cancel", "cancellation")
    row = Cancellation(
        number=await _next_number(session, "cancellation_number_seq", "BSX"),
        kind="holder",
        holder_id=principal.organisation_id,
        asset_id=batch.asset.id,
        project_id=batch.project.id,
        vintage=batch.vintage,
        quantity=quantity,
        reason=reason,
        serial_ranges=moved,
        transfer_id=transfer_id,
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    await record(
        session, principal.actor, "credits.cancel", "cancellation", row.id, {"asset": asset_code, "quantity": quantity}
    )
    return row


async def holdings(session: AsyncSession, owner_id: uuid.UUID) -> list[tuple[Asset, Account, list[list[int]]]]:
    accounts = (
        await session.execute(
            select(Account, Asset)
            .join(Asset, Asset.id == Account.asset_id)
            .where(Account.owner_id == owner_id, Asset.kind == "credit_batch")
            .order_by(Asset.code, Account.purpose)
            .execution_options(populate_existing=True)
        )
    ).all()
    result = []
    for account, asset in accounts:
        ranges = [[r.first_serial, r.last_serial] for r in await ledger.serial_ranges(session, account.id)]
        result.append((asset, account, ranges))
    return result


async def get_retirement(session: AsyncSession, number: str) -> tuple[Retirement, Project]:
    found = (
        await session.execute(
            select(Retirement, Project)
            .join(Project, Project.id == Retirement.project_id)
            .where(Retirement.number == number)
        )
    ).first()
    if found is None:
        raise NotFound(f"no retirement {number}", code="retirement_not_found")
    return found[0], found[1]


def verify_path(number: str) -> str:
    return f"/v1/public/retirements/{number}"


def certificate_pdf(retirement: Retirement, project: Project, settings: Settings) -> bytes:
    return render_retirement_certificate(
        RetirementCertificate(
            number=retirement.number,
            beneficiary=retirement.beneficiary,
            purpose=retirement.purpose,
            claim_start=retirement.claim_start,
            claim_end=retirement.claim_end,
            project_code=project.code,
            project_name=project.name,
            vintage=retirement.vintage,
            tonnes=retirement.quantity,
            serial_ranges=tuple(blocks(project.code, retirement.vintage, retirement.serial_ranges)),
            retired_at=retirement.created_at,
            verify_url=settings.public_base_url.rstrip("/") + verify_path(retirement.number),
        )
    )


@dataclass(frozen=True)
class SerialStatus:
    block: str
    asset_code: str
    serial: int
    state: str  # held, buffer, retired, cancelled, unissued
    retirement_number: str | None
    history: list[dict[str, object]]


async def lookup(session: AsyncSession, text: str) -> SerialStatus:
    """Where the first serial of a block (``BSC-<project>-<vintage>-<first>-<last>``) is now, and its history."""
    block = parse_block(text)
    code = f"BSC-{block.project_code}-{block.vintage}"
    asset = await ledger.find_asset(session, code)
    if asset is None:
        raise NotFound(f"no credit batch {code}", code="batch_not_found")
    holding = await ledger.lookup_serial(session, asset.id, block.first)
    state = "unissued"
    if holding.account_id is not None:
        account = await ledger.get_account(session, holding.account_id)
        state = {"available": "held", "buffer": "buffer", "retired": "retired", "cancelled": "cancelled"}.get(
            account.purpose, account.purpose
        )
    retirement_number = None
    if state == "retired":
        last_move = holding.history[-1]
        retirement_number = await session.scalar(
            select(Retirement.number).where(Retirement.transfer_id == last_move.transfer_id)
        )
    history: list[dict[str, object]] = [
        {"transfer_id": str(m.transfer_id), "minted": m.minted, "first": m.first_serial, "last": m.last_serial}
        for m in holding.history
    ]
    return SerialStatus(str(block), code, block.first, state, retirement_number, history)


async def list_retirements(
    session: AsyncSession, *, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[tuple[Retirement, Project]]:
    query = (
        select(Retirement, Project)
        .join(Project, Project.id == Retirement.project_id)
        .order_by(Retirement.created_at, Retirement.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(tuple_(Retirement.created_at, Retirement.id) > after)
    return [(row, project) for row, project in (await session.execute(query)).all()]
