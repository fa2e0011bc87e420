"""Issuance of verified monitoring periods and reversals from the buffer pool, each in one transaction.

Issuance: the operator approves a verified report; the periods of its parcels are claimed first (the database
refuses an overlap with an already credited period, see migration 0003), then the project-and-vintage credit batch
(asset ``BSC-<project>-<vintage>``) mints serialized credits to the owner's available account and the buffer share to
the pooled buffer account, and the issuance row keeps the sealed calculation record.

Serial numbers: credits of one batch are numbered from 1 by the ledger as it mints them; a block prints as
``BSC-<project>-<vintage>-<first>-<last>`` with 9-digit serials (domain/registry/serials.py).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import ROUND_CEILING, Decimal

from sqlalchemy import func, select, tuple_
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Conflict, InvalidState, NotFound, RuleViolation
from domain.ledger.codes import AssetKind, Purpose
from domain.ledger.ids import new_transfer_id
from domain.ledger.transfers import TransferSpec
from domain.registry import carbon
from domain.registry.carbon import MonitoringInputs, calculate_monitoring_period
from domain.registry.project import ProjectAction
from domain.registry.records import CalculationRecord, canonical_decimal
from domain.registry.serials import format_block, vintage_of
from services import ledger
from services.audit import record
from services.db import sqlstate
from services.identity.service import Principal
from services.ledger.tables import Account, Asset, SerialMovement
from services.registry import access, methodologies
from services.registry.monitoring import load_report
from services.registry.tables import Cancellation, CreditedPeriod, IssuanceRow, Parcel, Project, Reversal

EXCLUSION_VIOLATION = "23P01"
UNIQUE_VIOLATION = "23505"


def asset_code(project_code: str, vintage: int) -> str:
    return f"BSC-{project_code}-{vintage}"


async def credit_asset(session: AsyncSession, project: Project, vintage: int) -> Asset:
    return await ledger.ensure_asset(
        session,
        code=asset_code(project.code, vintage),
        kind=AssetKind.CREDIT_BATCH,
        name=f"{project.name} {vintage}"[:200],
        unit="tCO2e",
    )


async def minted_range(session: AsyncSession, transfer_id: uuid.UUID) -> tuple[int, int]:
    rows = (
        await session.execute(
            select(SerialMovement.first_serial, SerialMovement.last_serial).where(
                SerialMovement.transfer_id == transfer_id
            )
        )
    ).all()
    return min(row[0] for row in rows), max(row[1] for row in rows)


async def moved_ranges(session: AsyncSession, transfer_id: uuid.UUID) -> list[list[int]]:
    rows = await session.execute(
        select(SerialMovement.first_serial, SerialMovement.last_serial)
        .where(SerialMovement.transfer_id == transfer_id)
        .order_by(SerialMovement.first_serial)
    )
    return [[int(first), int(last)] for first, last in rows]


async def _claim_periods(
    session: AsyncSession, issuance_id: uuid.UUID, project_id: uuid.UUID, parcel_keys: list[str], start: date, end: date
) -> None:
    query = select(Parcel).where(Parcel.project_id == project_id, Parcel.parcel_key.in_(parcel_keys))
    parcels = (await session.execute(query)).scalars()
    try:
        for parcel in sorted(parcels, key=lambda item: item.parcel_key):  # sorted: the same lock order everywhere
            session.add(
                CreditedPeriod(
                    parcel_key=parcel.parcel_key,
                    parcel_id=parcel.id,
                    issuance_id=issuance_id,
                    period_start=start,
                    period_end=end,
                )
            )
            await session.flush()
    except DBAPIError as error:
        if sqlstate(error) == EXCLUSION_VIOLATION:
            message = str(getattr(error, "orig", error)).splitlines()[0].split(": ", 1)[-1]
            raise Conflict(f"double issuance refused: {message}", code="period_already_credited") from error
        raise


async def _require_active_parcels(session: AsyncSession, project: Project, keys: list[str]) -> None:
    """Defence in depth: release refuses a parcel in an open report, so a report's parcels are all still held."""
    held = set(
        (
            await session.execute(
                select(Parcel.parcel_key).where(
                    Parcel.project_id == project.id, Parcel.parcel_key.in_(keys), Parcel.active
                )
            )
        ).scalars()
    )
    missing = sorted(set(keys) - held)
    if missing:
        raise Conflict(f"project {project.code} no longer holds parcel(s) {', '.join(missing)}", code="parcel_released")


async def approve_issuance(session: AsyncSession, principal: Principal, report_id: uuid.UUID) -> IssuanceRow:
    project, report = await load_report(session, report_id, principal, for_update=True)
    aggregate = await access.lifecycle(session, project)
    actor = await access.lifecycle_actor(session, project, principal)
    if report.number != aggregate.period:
        raise InvalidState(f"report {report.number} is not the project's current period", code="report_not_current")
    if report.status == "issued":
        raise Conflict(f"monitoring report {report.id} was already issued", code="already_issued")
    transition = aggregate.perform(ProjectAction.APPROVE_ISSUANCE, actor)
    pinned = await methodologies.get(session, project.methodology_id)
    methodology_row = await methodologies.governing_row(session, pinned.code)
    inputs = report.inputs | {
        "buffer_share": canonical_decimal(project.buffer_share),
        "carried_in": canonical_decimal(project.carried_remainder),
    }
    calculation = calculate_monitoring_period(
        methodologies.to_domain(methodology_row), MonitoringInputs.from_dict(inputs)
    )
    # Before any write: a report filed before the vintage rule may still end in a year that cannot be issued.
    vintage = vintage_of(report.period_end)
    issuance_id = uuid.uuid4()
    keys = [item["parcel_id"] for item in inputs["parcels"]]
    await _require_active_parcels(session, project, keys)
    await _claim_periods(session, issuance_id, project.id, keys, report.period_start, report.period_end)
    asset = await credit_asset(session, project, vintage)
    issued, buffer = int(calculation.outputs["issued"]), int(calculation.outputs["buffer"])
    source = await ledger.open_account(session, asset_id=asset.id, owner_id=None, purpose=Purpose.ISSUANCE)
    specs: list[TransferSpec] = []
    owner_transfer = buffer_transfer = None
    if issued:
        owner = await ledger.open_account(
            session, asset_id=asset.id, owner_id=project.owner_id, purpose=Purpose.AVAILABLE
        )
        owner_transfer = new_transfer_id()
        specs.append(
            TransferSpec(
                owner_transfer,
                source.id,
                owner.id,
                issued,
                "issue",
                asset_id=asset.id,
                reference=f"issuance:{issuance_id}",
            )
        )
    if buffer:
        pool = await ledger.open_account(session, asset_id=asset.id, owner_id=None, purpose=Purpose.BUFFER)
        buffer_transfer = new_transfer_id()
        specs.append(
            TransferSpec(
                buffer_transfer,
                source.id,
                pool.id,
                buffer,
                "buffer",
                asset_id=asset.id,
                reference=f"issuance:{issuance_id}",
            )
        )
    if specs:
        await ledger.post_linked(session, specs)
    serials = await minted_range(session, owner_transfer) if owner_transfer else (None, None)
    buffer_serials = await minted_range(session, buffer_transfer) if buffer_transfer else (None, None)
    outputs = calculation.outputs
    row = IssuanceRow(
        id=issuance_id,
        report_id=report.id,
        project_id=project.id,
        methodology_id=methodology_row.id,
        vintage=vintage,
        asset_id=asset.id,
        net_tonnes=Decimal(outputs["net_removals"]),
        uncertainty_tonnes=Decimal(outputs["uncertainty_deduction"]),
        buffer_tonnes=buffer,
        issued_tonnes=issued,
        carried_in=project.carried_remainder,
        carried_out=Decimal(outputs["carried_out"]),
        calculation=calculation.as_dict(),
        calculation_sha256=calculation.sha256,
        serial_first=serials[0],
        serial_last=serials[1],
        buffer_serial_first=buffer_serials[0],
        buffer_serial_last=buffer_serials[1],
        owner_transfer_id=owner_transfer,
        buffer_transfer_id=buffer_transfer,
        approved_by=principal.organisation_id,
    )
    try:
        session.add(row)
        await session.flush()
    except DBAPIError as error:
        if sqlstate(error) == UNIQUE_VIOLATION:
            raise Conflict(f"monitoring report {report.id} was already issued", code="already_issued") from error
        raise
    report.status = "issued"
    project.status = transition.to_state.value
    project.carried_remainder = Decimal(outputs["carried_out"])
    project.updated_at = report.updated_at = datetime.now(UTC)
    await session.flush()
    reversal = Decimal(outputs["reversal"])
    if reversal > 0:
        # Net removals below zero: the loss is made good from the buffer pool, as for any other reversal.
        tonnes = int(reversal.to_integral_value(rounding=ROUND_CEILING))
        await record_reversal(
            session,
            principal,
            project.id,
            event_type="other",
            occurred_on=report.period_end,
            tonnes_lost=tonnes,
            description=f"negative net removals in monitoring period {report.number}",
        )
    await record(
        session,
        principal.actor,
        "issuance.approve",
        "issuance",
        row.id,
        {
            "project": project.code,
            "report": report.number,
            "issued": issued,
            "buffer": buffer,
            "serials": format_block(project.code, vintage, serials[0], serials[1]) if serials[0] else None,
            "sha256": calculation.sha256,
        },
    )
    return row


async def record_reversal(
    session: AsyncSession,
    principal: Principal,
    project_id: uuid.UUID,
    *,
    event_type: str,
    occurred_on: date,
    tonnes_lost: int,
    description: str,
) -> Reversal:
    """A loss event: the same tonnes are cancelled from the buffer pool, the project's own batches first."""
    project = await access.load_project(session, project_id, principal)
    issued_before = await session.scalar(
        select(func.count()).select_from(IssuanceRow).where(IssuanceRow.project_id == project.id)
    )
    if not issued_before:
        raise InvalidState(f"project {project.code} has issued nothing to reverse", code="nothing_to_reverse")
    reversal = Reversal(
        project_id=project.id,
        event_type=event_type,
        occurred_on=occurred_on,
        tonnes_lost=tonnes_lost,
        description=description,
        recorded_by=principal.organisation_id,
    )
    session.add(reversal)
    await session.flush()
    pools = (
        await session.execute(
            select(Account, Asset, IssuanceRow.project_id)
            .join(Asset, Asset.id == Account.asset_id)
            .join(IssuanceRow, IssuanceRow.asset_id == Asset.id)
            .where(Account.owner_id.is_(None), Account.purpose == Purpose.BUFFER.value)
            .distinct()
            .execution_options(populate_existing=True)
        )
    ).all()
    ordered = sorted(pools, key=lambda row: (row[2] != project.id, row[1].code))
    remaining = tonnes_lost
    plan: list[tuple[Account, Asset, uuid.UUID, int]] = []
    for (
        account,
        asset,
        owner_project,
    ) in ordered:
        take = min(remaining, account.balance)
        if take > 0:
            plan.append((account, asset, owner_project, take))
            remaining -= take
        if remaining == 0:
            break
    if remaining > 0:
        raise RuleViolation(
            f"the buffer pool holds {tonnes_lost - remaining} t, less than the {tonnes_lost} t lost",
            code="buffer_insufficient",
        )
    specs: list[TransferSpec] = []
    for account, asset, _, take in plan:
        cancelled = await ledger.open_account(session, asset_id=asset.id, owner_id=None, purpose=Purpose.CANCELLED)
        specs.append(
            TransferSpec(
                new_transfer_id(),
                account.id,
                cancelled.id,
                take,
                "reversal",
                asset_id=asset.id,
                reference=f"reversal:{reversal.id}",
            )
        )
    await ledger.post_linked(session, specs)
    for (_, asset, owner_project, take), spec in zip(plan, specs, strict=True):
        number = await session.scalar(select(func.nextval("cancellation_number_seq")))
        session.add(
            Cancellation(
                number=f"BSX-{datetime.now(UTC).year}-{int(number or 0):06d}",
                kind="reversal",
                reversal_id=reversal.id,
                asset_id=asset.id,
                project_id=owner_project,
                vintage=int(asset.code.rsplit("-", 1)[1]),
                quantity=take,
                reason=f"{event_type}: {description}",
                serial_ranges=await moved_ranges(session, spec.id),
                transfer_id=spec.id,
            )
        )
    await session.flush()
    await record(
        session,
        principal.actor,
        "reversal.record",
        "reversal",
        reversal.id,
        {"project": project.code, "tonnes": tonnes_lost, "event": event_type},
    )
    return reversal


async def get_issuance(session: AsyncSession, issuance_id: uuid.UUID) -> IssuanceRow:
    row = await session.get(IssuanceRow, issuance_id)
    if row is None:
        raise NotFound(f"no issuance {issuance_id}", code="issuance_not_found")
    return row


async def list_issuances(
    session: AsyncSession, *, project_code: str | None, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[tuple[IssuanceRow, Project]]:
    query = (
        select(IssuanceRow, Project)
        .join(Project, Project.id == IssuanceRow.project_id)
        .order_by(IssuanceRow.created_at, IssuanceRow.id)
        .limit(limit)
    )
    if project_code is not None:
        query = query.where(Project.code == project_code)
    if after is not None:
        query = query.where(tuple_(IssuanceRow.created_at, IssuanceRow.id) > after)
    return [(row, project) for row, project in (await session.execute(query)).all()]


def recompute(row: IssuanceRow) -> tuple[bool, bool]:
    """(the stored hash matches the stored record, re-running the calculation gives the same record)."""
    try:
        stored = CalculationRecord.from_dict(row.calculation)
    except (KeyError, TypeError, ValueError):
        return False, False
    return stored.hash_matches() and stored.sha256 == row.calculation_sha256, carbon.recompute(stored) and (
        stored.sha256 == row.calculation_sha256
    )
