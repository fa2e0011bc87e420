"""Label code batches: authorised by the domain, generated in bulk, stored with COPY; exports as CSV, a printable PDF
sheet and a QR code per code.

A million codes arrive in one ``copy_records_to_table`` on the transaction's own connection, so the batch row and its
codes commit together. A code that collides with an earlier batch's code (the unique key says so) is replaced and the
copy repeated inside a savepoint; that happens for a few batches in a hundred at a million codes each.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any, Literal

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Conflict, Forbidden, NotFound, RuleViolation
from domain.identity.roles import Role
from domain.labels.batches import authorise_code_batch
from domain.labels.codes import CodeVerdict, check_code, generate_batch, parse_code
from domain.labels.states import local_date
from services import audit
from services.documents.label_sheet import LabelSheet, render_label_sheet
from services.documents.qr import qr_svg
from services.identity.service import Principal
from services.identity.tables import Organisation
from services.labels.accreditations import accreditations_of
from services.labels.certifications import actor_of, load, visible_to
from services.labels.tables import CertificationRow, CodeBatchRow, CounterfeitFlagRow, LabelCodeRow

MAX_SHEET_CODES = 2_400  # 100 A4 pages; larger batches are printed in slices
COPY_ATTEMPTS = 5
VERIFY_PATH = "/v1/public/labels/"


async def _driver(session: AsyncSession) -> Any:
    """The asyncpg connection under the session's transaction."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def store_codes(session: AsyncSession, batch_id: int, codes: list[str], *, certifier: int, year: int) -> None:
    driver = await _driver(session)
    for _ in range(COPY_ATTEMPTS):
        try:
            async with driver.transaction():  # a savepoint inside the session's transaction
                await driver.copy_records_to_table(
                    "label_code", records=[(code, batch_id) for code in codes], columns=("code", "batch_id")
                )
            return
        except asyncpg.UniqueViolationError:
            taken = {
                record["code"]
                for record in await driver.fetch("SELECT code FROM label_code WHERE code = ANY($1::text[])", codes)
            }
            kept = [code for code in codes if code not in taken]
            extra = await asyncio.to_thread(
                generate_batch, certifier, year, len(codes) - len(kept), taken=taken | set(kept)
            )
            codes = kept + extra
    raise RuleViolation("could not find unused codes; try again", code="label_code_collisions")


async def issued_in_year(session: AsyncSession, certification_id: uuid.UUID, year_start: Any) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(CodeBatchRow.quantity), 0)).where(
            CodeBatchRow.certification_id == certification_id, CodeBatchRow.certificate_year_start == year_start
        )
    )
    return int(total or 0)


async def issue_batch(
    session: AsyncSession, certification_id: uuid.UUID, principal: Principal, quantity: int, now: datetime
) -> CodeBatchRow:
    row = await session.get(CertificationRow, certification_id, with_for_update=True)
    if row is None or not visible_to(row, principal):
        raise NotFound(f"no certification {certification_id}", code="certification_not_found")
    aggregate = await load(session, row)
    today = local_date(now)
    year_start = aggregate.certificate_year(today)[0] if aggregate.valid_from is not None else today
    issued = await issued_in_year(session, row.id, year_start) if aggregate.valid_from is not None else 0
    pool = await accreditations_of(session, [row.certifier_id])
    plan = authorise_code_batch(aggregate, actor_of(principal), pool, count=quantity, issued_this_year=issued, at=now)
    batch = CodeBatchRow(
        certification_id=row.id,
        certifier_id=row.certifier_id,
        label_number=plan.certifier_label_number,
        year=plan.year,
        quantity=plan.count,
        certificate_year_start=year_start,
        created_by=principal.user_id,
        created_at=now,
    )
    session.add(batch)
    try:
        await session.flush()
    except DBAPIError as error:
        raise RuleViolation(str(error.orig).split("\n")[0], code="label_batch_exceeds_volume") from error
    codes = await asyncio.to_thread(generate_batch, plan.certifier_label_number, plan.year, plan.count)
    await store_codes(session, batch.id, codes, certifier=plan.certifier_label_number, year=plan.year)
    await audit.record(
        session, principal.actor, "labels.batch.issue", "label_code_batch", batch.id, {"quantity": plan.count}
    )
    return batch


async def get_batch(
    session: AsyncSession, batch_id: int, principal: Principal
) -> tuple[CodeBatchRow, CertificationRow]:
    batch = await session.get(CodeBatchRow, batch_id)
    certification = await session.get(CertificationRow, batch.certification_id) if batch else None
    if batch is None or certification is None or not visible_to(certification, principal):
        raise NotFound(f"no code batch {batch_id}", code="batch_not_found")
    return batch, certification


async def list_batches(session: AsyncSession, certification_id: uuid.UUID) -> list[CodeBatchRow]:
    rows = await session.scalars(
        select(CodeBatchRow).where(CodeBatchRow.certification_id == certification_id).order_by(CodeBatchRow.id)
    )
    return list(rows.all())


async def export_csv(session: AsyncSession, batch_id: int, base_url: str) -> bytes:
    """code, printed form, verification address: formatted by the server and copied out in one stream."""
    driver = await _driver(session)
    chunks: list[bytes] = []

    async def sink(chunk: bytes) -> None:
        chunks.append(chunk)

    await driver.copy_from_query(
        "SELECT code, 'BS-' || substr(code, 1, 4) || '-' || substr(code, 5, 2) || '-' || substr(code, 7, 13) "
        "|| '-' || substr(code, 20, 1) AS printed, $1 || code AS verify_url "
        "FROM label_code WHERE batch_id = $2 ORDER BY code",
        base_url.rstrip("/") + VERIFY_PATH,
        batch_id,
        output=sink,
        format="csv",
        header=True,
    )
    return b"".join(chunks)


async def sheet_pdf(
    session: AsyncSession, batch: CodeBatchRow, certification: CertificationRow, base_url: str, offset: int, limit: int
) -> bytes:
    if not 1 <= limit <= MAX_SHEET_CODES or offset < 0:
        raise RuleViolation(f"a sheet holds 1 to {MAX_SHEET_CODES} codes from offset 0 up", code="invalid_sheet_range")
    codes = (
        await session.scalars(
            select(LabelCodeRow.code)
            .where(LabelCodeRow.batch_id == batch.id)
            .order_by(LabelCodeRow.code)
            .offset(offset)
            .limit(limit)
        )
    ).all()
    parties = await session.execute(
        select(Organisation.id, Organisation.name).where(
            Organisation.id.in_([certification.producer_id, certification.certifier_id])
        )
    )
    names = {party.id: party.name for party in parties}
    sheet = LabelSheet(
        batch=f"{batch.id} ({offset + 1}-{offset + len(codes)} of {batch.quantity})",
        product=certification.product,
        producer=names.get(certification.producer_id, ""),
        certifier=names.get(certification.certifier_id, ""),
        certificate_number=certification.number or "",
        valid_until=certification.valid_until.isoformat() if certification.valid_until else "",
        codes=list(codes),
        verify_base_url=base_url.rstrip("/") + VERIFY_PATH,
        printed=[parse_code(code).printed for code in codes],
    )
    return await asyncio.to_thread(render_label_sheet, sheet)


async def code_qr(session: AsyncSession, code: str, principal: Principal, base_url: str) -> str:
    """The QR code (SVG) of one issued code, for its certifier, its producer and the operator."""
    check = check_code(code)
    if check.verdict is not CodeVerdict.WELL_FORMED or check.code is None:
        raise RuleViolation(check.reason, code="label_code_malformed")
    digits = check.code.digits
    row = await session.get(LabelCodeRow, digits)
    batch = await session.get(CodeBatchRow, row.batch_id) if row else None
    certification = await session.get(CertificationRow, batch.certification_id) if batch else None
    if certification is None or not visible_to(certification, principal):
        raise NotFound(f"no label code {digits}", code="label_code_not_found")
    return qr_svg(base_url.rstrip("/") + VERIFY_PATH + digits)


FlagState = Literal["open", "cleared", "all"]


async def counterfeit_flags(
    session: AsyncSession, principal: Principal, limit: int, *, state: FlagState = "open"
) -> list[CounterfeitFlagRow]:
    """Suspected counterfeits on the caller's certificates (a certifier's or a producer's), all for the operator.

    ``state``: ``open`` (not cleared), ``cleared`` or ``all``.
    """
    query = select(CounterfeitFlagRow).order_by(CounterfeitFlagRow.flagged_at.desc()).limit(limit)
    if state == "open":
        query = query.where(CounterfeitFlagRow.cleared_at.is_(None))
    elif state == "cleared":
        query = query.where(CounterfeitFlagRow.cleared_at.is_not(None))
    if principal.role is not Role.OPERATOR:
        org = principal.organisation_id
        query = query.join(CertificationRow, CertificationRow.id == CounterfeitFlagRow.certification_id).where(
            (CertificationRow.certifier_id == org) | (CertificationRow.producer_id == org)
        )
    return list((await session.scalars(query)).all())


async def clear_counterfeit_flag(
    session: AsyncSession, code: str, principal: Principal, note: str, now: datetime
) -> CounterfeitFlagRow:
    """The certifier of the code's certificate (or the operator) clears a flag it has looked into.

    The public verification stops warning, and the counterfeit rule counts only the scans after ``now``.
    """
    check = check_code(code)
    if check.verdict is not CodeVerdict.WELL_FORMED or check.code is None:
        raise RuleViolation(check.reason, code="label_code_malformed")
    flag = await session.get(CounterfeitFlagRow, check.code.digits, with_for_update=True)
    certification = await session.get(CertificationRow, flag.certification_id) if flag else None
    if flag is None or certification is None or not visible_to(certification, principal):
        raise NotFound(f"no counterfeit flag on {check.code.digits}", code="counterfeit_flag_not_found")
    if principal.role is not Role.OPERATOR and principal.organisation_id != certification.certifier_id:
        raise Forbidden("only the certifier of the certificate can clear its counterfeit flags", code="not_certifier")
    if flag.cleared_at is not None:
        raise Conflict(
            f"the flag on {flag.code} was cleared at {flag.cleared_at.isoformat()}", code="flag_already_cleared"
        )
    flag.cleared_at, flag.cleared_by, flag.clearance_note = now, principal.organisation_id, note
    await session.flush()
    await audit.record(
        session,
        principal.actor,
        "labels.counterfeit_flag.clear",
        "label_code",
        flag.code,
        {"note": note, "reasons": list(flag.reasons), "flagged_at": flag.flagged_at.isoformat()},
    )
    return flag
