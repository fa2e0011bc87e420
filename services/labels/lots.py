"""Product lots: a certified producer's harvests under a live certificate, within the certified annual volume.

Whether a lot is frozen is derived from its certificate's state every time it is read (the domain's ``lot_status``,
and the view ``product_lot_status`` for SQL readers), so a suspension freezes and a reinstatement thaws at once.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import NotFound, RuleViolation
from domain.labels.lots import Lot, LotStatus, lot_status, register_lot
from domain.labels.scheme import ProductCategory
from domain.labels.states import local_date
from domain.ledger.codes import AssetKind, Purpose
from domain.ledger.ids import new_transfer_id
from domain.ledger.transfers import TransferSpec
from services import audit, ledger
from services.identity.service import Principal
from services.labels.certifications import load, visible_to
from services.labels.tables import CertificationRow, ProductLotRow


def to_domain(row: ProductLotRow, certification: CertificationRow) -> Lot:
    return Lot(
        row.id,
        row.certification_id,
        certification.number or "",
        row.producer_id,
        ProductCategory(certification.category),
        certification.product,
        row.quantity,
        row.unit,
        row.harvest_date,
        row.registered_at,
    )


async def register(
    session: AsyncSession,
    certification_id: uuid.UUID,
    principal: Principal,
    *,
    quantity: int,
    unit: str,
    harvest_date: date,
    now: datetime,
) -> tuple[ProductLotRow, LotStatus]:
    row = await session.get(CertificationRow, certification_id, with_for_update=True)
    if row is None or not visible_to(row, principal):
        raise NotFound(f"no certification {certification_id}", code="certification_not_found")
    aggregate = await load(session, row)
    year_start = aggregate.certificate_year(local_date(now))[0] if aggregate.valid_from is not None else None
    registered = 0
    if year_start is not None:
        registered = int(
            await session.scalar(
                select(func.coalesce(func.sum(ProductLotRow.quantity), 0)).where(
                    ProductLotRow.certification_id == row.id, ProductLotRow.certificate_year_start == year_start
                )
            )
            or 0
        )
    lot = register_lot(
        aggregate,
        principal.organisation_id,
        lot_id=uuid.uuid4(),
        quantity=quantity,
        unit=unit,
        harvest_date=harvest_date,
        at=now,
        registered_this_year=registered,
    )
    assert year_start is not None, "register_lot refuses certificates that were never issued"
    lot_row = ProductLotRow(
        id=lot.id,
        certification_id=row.id,
        producer_id=lot.producer_id,
        quantity=lot.quantity,
        unit=lot.unit,
        harvest_date=lot.harvest_date,
        certificate_year_start=year_start,
        registered_by=principal.user_id,
        registered_at=now,
    )
    session.add(lot_row)
    try:
        await session.flush()
    except DBAPIError as error:
        raise RuleViolation(str(error.orig).split("\n")[0], code="lot_exceeds_volume") from error
    await _mint(session, lot_row, row.product)
    await audit.record(
        session,
        principal.actor,
        "labels.lot.register",
        "product_lot",
        lot_row.id,
        {"quantity": quantity, "asset": asset_code(lot_row.id)},
    )
    return lot_row, lot_status(lot, aggregate)


def asset_code(lot_id: uuid.UUID) -> str:
    """The ledger asset of a lot: its whole quantity, in its unit, so a market can trade it like any asset."""
    return f"LOT-{lot_id.hex}"


async def _mint(session: AsyncSession, lot: ProductLotRow, product: str) -> None:
    """Put the lot's quantity into the producer's available account, in the same transaction as the lot."""
    asset = await ledger.ensure_asset(
        session,
        code=asset_code(lot.id),
        kind=AssetKind.PRODUCT_LOT,
        name=f"{product} ({lot.harvest_date.isoformat()})"[:200],
        unit=lot.unit,
    )
    source = await ledger.open_account(session, asset_id=asset.id, owner_id=None, purpose=Purpose.ISSUANCE)
    holding = await ledger.open_account(session, asset_id=asset.id, owner_id=lot.producer_id, purpose=Purpose.AVAILABLE)
    await ledger.post_linked(
        session,
        [
            TransferSpec(
                new_transfer_id(),
                source.id,
                holding.id,
                lot.quantity,
                "lot_register",
                asset_id=asset.id,
                reference=f"product_lot:{lot.id}",
            )
        ],
    )


async def get_lot(
    session: AsyncSession, lot_id: uuid.UUID, principal: Principal
) -> tuple[ProductLotRow, CertificationRow, LotStatus]:
    lot_row = await session.get(ProductLotRow, lot_id)
    certification = await session.get(CertificationRow, lot_row.certification_id) if lot_row else None
    if lot_row is None or certification is None or not visible_to(certification, principal):
        raise NotFound(f"no lot {lot_id}", code="lot_not_found")
    aggregate = await load(session, certification)
    return lot_row, certification, lot_status(to_domain(lot_row, certification), aggregate)


async def lots_of(session: AsyncSession, certification: CertificationRow) -> list[tuple[ProductLotRow, LotStatus]]:
    aggregate = await load(session, certification)
    rows = await session.scalars(
        select(ProductLotRow)
        .where(ProductLotRow.certification_id == certification.id)
        .order_by(ProductLotRow.registered_at, ProductLotRow.id)
    )
    return [(row, lot_status(to_domain(row, certification), aggregate)) for row in rows]
