"""Migration 0005 on its own database: up from 0004 with a project already on notice (as a live database may hold),
down again and up again."""

from __future__ import annotations

import asyncpg

from services.migrate import head_revision
from tests.conftest import EmptyDatabase


async def test_0005_upgrades_a_0004_database_keeps_its_projects_and_downgrades(
    empty_database: EmptyDatabase,
) -> None:
    database = empty_database
    await database.upgrade("0004")
    connection = await asyncpg.connect(database.dsn)
    try:
        organisation = await connection.fetchval(
            "INSERT INTO organisation (name, role) VALUES ('林场 Forest farm', 'project_owner') RETURNING id"
        )
        methodology = await connection.fetchval(
            "INSERT INTO methodology (code, version, name, status, definition, published_at) "
            "VALUES ('CCER-14-001-V01', 1, 'm', 'active', '{}'::jsonb, now()) RETURNING id"
        )
        await connection.execute(
            "INSERT INTO project (code, owner_id, name, district, township, village, project_type, "
            "methodology_id, crediting_start, crediting_end, risk_rating, buffer_share, status, "
            "public_notice_until) VALUES ('BZ-NJ-0001', $1, 'p', 'NJ', 't', 'v', 'afforestation', $2, "
            "'2016-01-01', '2045-12-31', 'low', 0.1, 'public_notice', '2026-12-01')",
            organisation,
            methodology,
        )
    finally:
        await connection.close()

    await database.upgrade("0005")
    connection = await asyncpg.connect(database.dsn)
    try:
        row = await connection.fetchrow("SELECT status, public_notice_on, public_notice_until FROM project")
        assert (row["status"], row["public_notice_on"], str(row["public_notice_until"])) == (
            "public_notice",
            None,
            "2026-12-01",
        )
        await connection.execute(
            "UPDATE project SET status = 'deregistered', closed_at = now(), closed_reason = 'test'"
        )
        refused = None
        try:
            await connection.execute("UPDATE project SET closed_reason = NULL")
        except asyncpg.CheckViolationError as error:
            refused = error.constraint_name
        assert refused == "ck_project_closure"
        await connection.execute("UPDATE project SET status = 'public_notice', closed_at = NULL, closed_reason = NULL")
    finally:
        await connection.close()

    await database.downgrade("0004")
    await database.upgrade("head")
    connection = await asyncpg.connect(database.dsn)
    try:
        assert await connection.fetchval("SELECT version_num FROM alembic_version") == head_revision()
        assert await connection.fetchval("SELECT count(*) FROM project") == 1
    finally:
        await connection.close()
