"""Migration 0021: account pages keep three quarters free, for the new versions of the most updated rows."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.ledger.codes import Purpose
from services.db import unit_of_work
from services.ledger import repository
from tests.conftest import EmptyDatabase
from tests.integration.ledger.conftest import World

Sessions = async_sessionmaker[AsyncSession]

OPTIONS = "SELECT reloptions FROM pg_class WHERE oid = 'account'::regclass"
FILE = "SELECT relfilenode FROM pg_class WHERE oid = 'account'::regclass"
CLUSTERED = "SELECT count(*) FROM pg_index WHERE indrelid = 'account'::regclass AND indisclustered"
# The most accounts on any one page of the table (a row's ctid is (page, line)).
DENSEST_PAGE = "SELECT max(rows) FROM (SELECT count(*) AS rows FROM account GROUP BY (ctid::text::point)[0]) AS pages"


async def test_0021_sets_the_fillfactor_rewrites_the_table_and_its_downgrade_undoes_both(
    empty_database: EmptyDatabase,
) -> None:
    database = empty_database
    await database.upgrade("0020")
    assert await database.fetchval(OPTIONS) == ["fillfactor=70"]
    file_before = await database.fetchval(FILE)
    await database.upgrade("0021")
    assert await database.fetchval(OPTIONS) == ["fillfactor=25"]
    file_after = await database.fetchval(FILE)
    assert file_after != file_before  # rewritten, so rows already there are spread out too
    assert await database.fetchval(CLUSTERED) == 0
    await database.downgrade("0020")
    assert await database.fetchval(OPTIONS) == ["fillfactor=70"]
    file_down = await database.fetchval(FILE)
    assert file_down not in (file_before, file_after)
    assert await database.fetchval(CLUSTERED) == 0


async def test_new_accounts_leave_room_on_their_pages(sessions: Sessions, world: World) -> None:
    async with unit_of_work(sessions) as session:
        for number in range(1, 121):
            await repository.open_account(
                session,
                asset_id=world.cny,
                owner_id=world.organisations[0],
                purpose=Purpose.AVAILABLE,
                sub_account=number,
            )
    async with sessions() as session:
        densest = (await session.execute(text(DENSEST_PAGE))).scalar_one()
        accounts = (await session.execute(text("SELECT count(*) FROM account"))).scalar_one()
    # At 0002's fillfactor of 70 about thirty-five rows of this width shared a page; at 25 about seventeen.
    assert accounts >= 120
    assert 10 <= densest <= 20
