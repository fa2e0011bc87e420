"""``bashan doctor``: every check prints one line; failures say what to do, never a traceback."""

from __future__ import annotations

import typer
from redis.asyncio import Redis

from services.config import Settings
from services.db import make_engine
from services.embedded import redact, resolve_servers
from services.health import check_database, check_redis
from services.migrate import head_revision


def _line(ok: bool, text: str) -> None:
    typer.echo(f"[{'ok' if ok else 'FAIL'}] {text}")


async def diagnose(settings: Settings) -> list[str]:
    problems: list[str] = []
    try:
        head = head_revision()
        _line(True, f"migrations: one head, {head}")
    except Exception as error:
        problems.append(f"migrations are broken: {error}")
        _line(False, problems[-1])
    try:
        servers = resolve_servers(settings)
    except Exception as error:
        problems.append(
            f"could not start an embedded server ({type(error).__name__}: {error}); "
            "set BASHAN_DATABASE_URL and BASHAN_REDIS_URL to servers you run"
        )
        _line(False, problems[-1])
        return problems
    try:
        _line(True, f"database: {servers.database_source} {redact(servers.database_url)}")
        engine = make_engine(servers.database_url, pool_size=1)
        try:
            reason = await check_database(engine)
        finally:
            await engine.dispose()
        if reason is None:
            _line(True, "database answers and its schema is at head")
        else:
            fix = (
                "run `bashan db upgrade`"
                if "code expects" in reason
                else "start PostgreSQL, or fix BASHAN_DATABASE_URL (unset it to use the embedded server)"
            )
            problems.append(f"{reason} -> {fix}")
            _line(False, problems[-1])
        _line(True, f"redis: {servers.redis_source} {redact(servers.redis_url)}")
        redis = Redis.from_url(servers.redis_url, socket_timeout=2, socket_connect_timeout=2)
        try:
            redis_reason = await check_redis(redis)
        finally:
            await redis.aclose()
        if redis_reason is None:
            _line(True, "redis answers")
        else:
            problems.append(
                f"{redis_reason} -> start Redis, or fix BASHAN_REDIS_URL (unset it to use the embedded server)"
            )
            _line(False, problems[-1])
        secret = "configured" if settings.secret_key else f"kept in {settings.data_dir / 'secret_key'}"
        _line(True, f"secret key: {secret}")
    finally:
        servers.stop()
    return problems
