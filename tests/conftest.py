"""Fixtures: one migrated PostgreSQL database per test session (per xdist worker), real Redis, a fresh app per test.

Servers: ``BASHAN_DATABASE_URL`` / ``BASHAN_REDIS_URL`` when set (``.ci/run`` sets them when the machine's servers
answer), else embedded ones started for the session. Each test starts from empty tables (truncated before it) and
its own Redis key prefix (deleted after it), so tests can use real concurrent connections.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.app import create_app
from domain.identity.roles import Role
from services.config import Settings
from services.db import make_engine, make_sessionmaker, to_asyncpg_dsn, unit_of_work
from services.embedded import EmbeddedServers, resolve_servers
from services.identity import service as identity
from services.migrate import downgrade_sync, upgrade_sync

# Tables whose rows migrations seed; every other table is emptied after each test.
PRESERVED_TABLES = frozenset({"alembic_version"})
PASSWORD = "test-password-123"


@dataclass(frozen=True)
class ServerUrls:
    database_url: str
    redis_url: str
    admin_dsn: str


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    head = base.rsplit("/", 1)[0]
    return f"{head}/{name}" + (f"?{query}" if query else "")


@pytest.fixture(scope="session")
def servers() -> Iterator[ServerUrls]:
    data_dir = Path(tempfile.mkdtemp(prefix="bashan-test-"))
    settings = Settings(
        database_url=os.environ.get("BASHAN_DATABASE_URL") or None,
        redis_url=os.environ.get("BASHAN_REDIS_URL") or None,
        data_dir=data_dir,
    )
    resolved = resolve_servers(settings)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"bashan_test_{worker}_{secrets.token_hex(4)}"
    admin_dsn = to_asyncpg_dsn(_with_database(resolved.database_url, "postgres"))

    async def create() -> None:
        connection = await asyncpg.connect(admin_dsn)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    async def drop() -> None:
        connection = await asyncpg.connect(admin_dsn)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    asyncio.run(create())
    database_url = _with_database(resolved.database_url, name)
    try:
        upgrade_sync(database_url)
        yield ServerUrls(database_url, resolved.redis_url, admin_dsn)
    finally:
        asyncio.run(drop())
        resolved.stop()
        # The embedded servers' files (tens of MB of PostgreSQL data) go with them; leave nothing behind.
        shutil.rmtree(data_dir, ignore_errors=True)


@dataclass(frozen=True)
class EmptyDatabase:
    """A database of its own on the test server, created without a schema: for tests that walk migrations."""

    url: str  # for migrations and the command line
    dsn: str  # for asyncpg

    async def upgrade(self, revision: str) -> None:
        await asyncio.to_thread(upgrade_sync, self.url, revision)

    async def downgrade(self, revision: str) -> None:
        await asyncio.to_thread(downgrade_sync, self.url, revision)

    async def fetchval(self, query: str, *args: object) -> Any:
        connection = await asyncpg.connect(self.dsn)
        try:
            return await connection.fetchval(query, *args)
        finally:
            await connection.close()


@pytest.fixture
async def empty_database(servers: ServerUrls) -> AsyncIterator[EmptyDatabase]:
    name = f"bashan_migration_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(servers.admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield EmptyDatabase(_with_database(servers.database_url, name), _with_database(servers.admin_dsn, name))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
async def engine(servers: ServerUrls) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(servers.database_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
async def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Emptied before the test rather than after: a test then starts clean even if something of an earlier test
    # (a task it left running, a fixture torn down out of order) wrote after that test ended.
    async with engine.begin() as connection:
        tables = (
            await connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
            )
        ).scalars()
        doomed = [table for table in tables if table not in PRESERVED_TABLES]
        if doomed:
            # The append-only tables refuse TRUNCATE by trigger (migration 0014); only this maintenance mode of a
            # superuser, on the test's own database, switches ordinary triggers off.
            await connection.execute(text("SET LOCAL session_replication_role = replica"))
            await connection.execute(text(f"TRUNCATE {', '.join(doomed)} RESTART IDENTITY CASCADE"))
            await connection.execute(text("SET LOCAL session_replication_role = origin"))
    return make_sessionmaker(engine)


@pytest.fixture
async def redis_prefix(servers: ServerUrls) -> AsyncIterator[str]:
    prefix = f"bashan-test:{uuid.uuid4().hex}:"
    yield prefix
    redis = Redis.from_url(servers.redis_url)
    try:
        keys = [key async for key in redis.scan_iter(match=prefix + "*", count=500)]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


@pytest.fixture
def settings(servers: ServerUrls, redis_prefix: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=servers.database_url,
        redis_url=servers.redis_url,
        redis_prefix=redis_prefix,
        secret_key="test-secret-key-not-for-production-0123456789",  # type: ignore[arg-type]
        data_dir=tmp_path,
        log_json=True,
        db_pool_size=10,
        run_workers=False,  # tests drive jobs themselves, so their effects are deterministic
    )


@pytest.fixture
async def app(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[FastAPI]:
    assert settings.database_url
    assert settings.redis_url
    handed = EmbeddedServers(settings.database_url, settings.redis_url, "test", "test")
    application = create_app(settings, handed)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@dataclass(frozen=True)
class Member:
    """An organisation with one user, and a bearer token for that user."""

    organisation_id: uuid.UUID
    user_id: uuid.UUID
    username: str
    role: Role
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


MemberFactory = Callable[..., Awaitable[Member]]


@pytest.fixture
def make_member(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> MemberFactory:
    counter = iter(range(1, 10_000))

    async def factory(role: Role, *, name: str | None = None, scopes: frozenset[str] | None = None) -> Member:
        number = next(counter)
        username = f"{role.value.replace('_', '-')}{number}@test"
        async with unit_of_work(sessions) as session:
            organisation = await identity.create_organisation(
                session, name=name or f"{role.value} org {number} {uuid.uuid4().hex[:6]}", role=role, actor=None
            )
            user = await identity.create_user(
                session, organisation_id=organisation.id, username=username, password=PASSWORD, actor=None
            )
        async with sessions() as session:
            principal = await identity.authenticate_password(session, username, PASSWORD, scopes)
        token, _ = identity.issue_access_token(principal, secret_key=settings.resolved_secret_key(), minutes=5)
        return Member(organisation.id, user.id, username, role, token)

    return factory
