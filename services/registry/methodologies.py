"""Methodology versions as rows: the default seeded by an idempotent loader; the operator drafts a new version, then
publishes it (the previous active version of the code is superseded) or withdraws it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Conflict, NotFound, RuleViolation
from domain.registry.methodology import (
    DEFAULT_METHODOLOGY_DATA,
    Methodology,
    MethodologyAction,
    MethodologyStatus,
    methodology_transition,
)
from services.audit import Actor, record
from services.registry.tables import MethodologyRow


async def seed_default(session: AsyncSession) -> MethodologyRow:
    """Insert the DOMAIN.md default version if missing; running it again changes nothing (safe at every start)."""
    data = DEFAULT_METHODOLOGY_DATA
    await session.execute(
        insert(MethodologyRow)
        .values(
            code=data["code"],
            version=data["version"],
            name=data["name"],
            status=data["status"],
            definition=data,
            published_at=func.now(),
        )
        .on_conflict_do_nothing(index_elements=[MethodologyRow.code, MethodologyRow.version])
    )
    return await get_version(session, str(data["code"]), int(data["version"]))


def to_domain(row: MethodologyRow) -> Methodology:
    # The row's status is authoritative: a version superseded after publication keeps its stored definition.
    return Methodology.from_dict(row.definition | {"status": row.status})


async def get_version(session: AsyncSession, code: str, version: int) -> MethodologyRow:
    row = (
        await session.execute(
            select(MethodologyRow).where(MethodologyRow.code == code, MethodologyRow.version == version)
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no methodology {code} version {version}", code="methodology_not_found")
    return row


async def get(session: AsyncSession, methodology_id: int) -> MethodologyRow:
    row = await session.get(MethodologyRow, methodology_id)
    if row is None:
        raise NotFound(f"no methodology {methodology_id}", code="methodology_not_found")
    return row


async def active_version(session: AsyncSession, code: str) -> MethodologyRow:
    row = (
        await session.execute(
            select(MethodologyRow)
            .where(MethodologyRow.code == code, MethodologyRow.status == MethodologyStatus.ACTIVE.value)
            .order_by(MethodologyRow.version.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"methodology {code} has no active version", code="methodology_not_found")
    return row


async def list_versions(
    session: AsyncSession, *, after: int | None, limit: int, include_drafts: bool = False, status: str | None = None
) -> list[MethodologyRow]:
    """Versions in id order; drafts are the operator's work in progress, shown only when asked for."""
    query = select(MethodologyRow).order_by(MethodologyRow.id).limit(limit)
    if after is not None:
        query = query.where(MethodologyRow.id > after)
    if not include_drafts:
        query = query.where(MethodologyRow.status != MethodologyStatus.DRAFT.value)
    if status is not None:
        query = query.where(MethodologyRow.status == status)
    return list((await session.execute(query)).scalars())


async def governing_row(session: AsyncSession, code: str) -> MethodologyRow:
    """The version new calculations of ``code`` use now: its active one (an issuance records which it was).

    A project keeps the version it was created under on record, but a version published since (a reviewed parameter
    table) governs its later periods; a code whose versions are all withdrawn stops calculating.
    """
    try:
        return await active_version(session, code)
    except NotFound:
        raise RuleViolation(
            f"methodology {code} has no active version: the operator publishes one first", code="methodology_inactive"
        ) from None


async def governing(session: AsyncSession, code: str) -> Methodology:
    return to_domain(await governing_row(session, code))


async def create_draft(session: AsyncSession, definition: dict[str, Any], actor: Actor) -> MethodologyRow:
    """A draft of the next version of ``definition["code"]``, numbered after the last; one open draft per code."""
    code = str(definition.get("code", ""))
    # Serialise drafts of one code, so two operators never both create version n + 1.
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext("methodology:" + code))))
    draft = await session.scalar(
        select(MethodologyRow.version).where(
            MethodologyRow.code == code, MethodologyRow.status == MethodologyStatus.DRAFT.value
        )
    )
    if draft is not None:
        raise Conflict(
            f"{code} version {draft} is already a draft: publish or withdraw it first", code="methodology_draft_open"
        )
    last = await session.scalar(select(func.max(MethodologyRow.version)).where(MethodologyRow.code == code))
    version = int(last or 0) + 1
    try:
        methodology = Methodology.from_dict(definition | {"version": version, "status": MethodologyStatus.DRAFT.value})
    except (KeyError, TypeError, ValueError) as error:
        raise RuleViolation(f"not a methodology definition: {error}", code="invalid_methodology") from error
    row = MethodologyRow(
        code=code,
        version=version,
        name=methodology.name,
        status=MethodologyStatus.DRAFT.value,
        definition=_json_definition(methodology),
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    await record(session, actor, "methodology.draft", "methodology", row.id, {"code": code, "version": version})
    return row


async def _locked(session: AsyncSession, code: str, version: int) -> MethodologyRow:
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext("methodology:" + code))))
    row = (
        await session.execute(
            select(MethodologyRow)
            .where(MethodologyRow.code == code, MethodologyRow.version == version)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no methodology {code} version {version}", code="methodology_not_found")
    return row


async def publish(session: AsyncSession, code: str, version: int, actor: Actor) -> MethodologyRow:
    """The draft becomes the active version of its code; the previous active one is superseded.

    Issuances keep pointing at the version they used, so nothing already calculated changes.
    """
    row = await _locked(session, code, version)
    label = f"{code} version {version}"
    status = methodology_transition(label, MethodologyStatus(row.status), MethodologyAction.PUBLISH)
    previous = (
        await session.execute(
            select(MethodologyRow)
            .where(MethodologyRow.code == code, MethodologyRow.status == MethodologyStatus.ACTIVE.value)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    superseded = None
    if previous is not None:
        previous.status = methodology_transition(
            f"{code} version {previous.version}", MethodologyStatus.ACTIVE, MethodologyAction.SUPERSEDE
        ).value
        superseded = previous.version
        # The old version leaves "active" before the new one enters it: the partial unique index checks each row.
        await session.flush()
    row.status = status.value
    row.published_at = datetime.now(UTC)
    await session.flush()
    await record(
        session,
        actor,
        "methodology.publish",
        "methodology",
        row.id,
        {"code": code, "version": version, "superseded": superseded},
    )
    return row


async def withdraw(session: AsyncSession, code: str, version: int, reason: str, actor: Actor) -> MethodologyRow:
    """A draft abandoned, or an active version taken out of use: no new project or calculation may use it."""
    row = await _locked(session, code, version)
    before = row.status
    status = methodology_transition(
        f"{code} version {version}", MethodologyStatus(row.status), MethodologyAction.WITHDRAW
    )
    row.status = status.value
    row.withdrawn_at = datetime.now(UTC)
    row.withdrawn_reason = reason
    await session.flush()
    await record(
        session,
        actor,
        "methodology.withdraw",
        "methodology",
        row.id,
        {"code": code, "version": version, "from": before, "reason": reason},
    )
    return row


def _json_definition(methodology: Methodology) -> dict[str, Any]:
    data = methodology.as_dict()
    data["species"] = [{key: str(value) for key, value in item.items()} for item in data["species"]]
    return data


async def seed_database(database_url: str) -> None:
    """The loader ``bashan serve`` and ``bashan demo`` run after migrating: the default methodology, idempotently."""
    from services.db import make_engine, make_sessionmaker, unit_of_work

    engine = make_engine(database_url, pool_size=1)
    try:
        async with unit_of_work(make_sessionmaker(engine)) as session:
            await seed_default(session)
    finally:
        await engine.dispose()
