"""Methodology versions as rows: the default seeded by an idempotent loader, new versions published by the operator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import NotFound, RuleViolation
from domain.registry.methodology import DEFAULT_METHODOLOGY_DATA, Methodology, MethodologyStatus
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


async def list_versions(session: AsyncSession, *, after: int | None, limit: int) -> list[MethodologyRow]:
    query = select(MethodologyRow).order_by(MethodologyRow.id).limit(limit)
    if after is not None:
        query = query.where(MethodologyRow.id > after)
    return list((await session.execute(query)).scalars())


async def publish(session: AsyncSession, definition: dict[str, Any], actor: Actor) -> MethodologyRow:
    """A new active version of ``definition["code"]``: numbered after the last, the previous active one superseded.

    Issuances keep pointing at the version they used, so nothing already calculated changes.
    """
    code = str(definition.get("code", ""))
    # Serialise publications of one code, so two operators never both create version n + 1.
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext("methodology:" + code))))
    last = await session.scalar(select(func.max(MethodologyRow.version)).where(MethodologyRow.code == code))
    version = int(last or 0) + 1
    try:
        methodology = Methodology.from_dict(definition | {"version": version, "status": MethodologyStatus.ACTIVE.value})
    except (KeyError, TypeError, ValueError) as error:
        raise RuleViolation(f"not a methodology definition: {error}", code="invalid_methodology") from error
    await session.execute(
        update(MethodologyRow)
        .where(MethodologyRow.code == code, MethodologyRow.status == MethodologyStatus.ACTIVE.value)
        .values(status=MethodologyStatus.SUPERSEDED.value)
    )
    stored = _json_definition(methodology)
    row = MethodologyRow(
        code=code,
        version=version,
        name=methodology.name,
        status=MethodologyStatus.ACTIVE.value,
        definition=stored,
        published_at=datetime.now(UTC),
    )
    session.add(row)
    await session.flush()
    await record(session, actor, "methodology.publish", "methodology", row.id, {"code": code, "version": version})
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
