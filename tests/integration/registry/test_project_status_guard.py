"""The database refuses project status changes the state machine does not allow, and agrees with the domain."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.registry.project import TRANSITIONS, ProjectState


async def test_the_database_table_equals_the_domain_state_machine(sessions: async_sessionmaker[AsyncSession]) -> None:
    domain = {(source.value, target.value) for (source, _), target in TRANSITIONS.items() if source is not target}
    # Two steps the service writes at once (start monitoring, then submit the report): each must be a real path.
    composite = {("registered", "verifying"), ("issued", "verifying")}
    assert all((a, "monitoring") in domain and ("monitoring", c) in domain for a, c in composite)
    domain |= composite
    async with sessions() as session:
        for source, target in itertools.product(ProjectState, repeat=2):
            allowed = await session.scalar(
                text("SELECT project_status_allowed(:a, :b)"), {"a": source.value, "b": target.value}
            )
            expected = source is target or (source.value, target.value) in domain
            assert allowed is expected, (source.value, target.value)


async def test_an_illegal_change_written_directly_is_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        organisation = await session.scalar(
            text("INSERT INTO organisation (name, role) VALUES ('owner', 'project_owner') RETURNING id")
        )
        methodology = await session.scalar(
            text(
                "INSERT INTO methodology (code, version, name, status, definition, published_at) "
                "VALUES ('CCER-14-001-V01', 1, 'm', 'active', '{}'::jsonb, now()) RETURNING id"
            )
        )
        await session.execute(
            text(
                "INSERT INTO project (code, owner_id, name, district, township, village, project_type, "
                "methodology_id, crediting_start, crediting_end, risk_rating, buffer_share, status) VALUES "
                "('BZ-NJ-0001', :owner, 'p', 'NJ', 't', 'v', 'afforestation', :methodology, '2016-01-01', "
                "'2045-12-31', 'low', 0.1, 'draft')"
            ),
            {"owner": organisation, "methodology": methodology},
        )
    async with sessions() as session, session.begin():
        with pytest.raises(DBAPIError, match="cannot go from draft to issued"):
            await session.execute(text("UPDATE project SET status = 'issued'"))
    async with sessions() as session, session.begin():
        await session.execute(text("UPDATE project SET status = 'validating'"))
        assert await session.scalar(text("SELECT status FROM project")) == "validating"
