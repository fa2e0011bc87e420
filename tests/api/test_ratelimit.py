"""Rate limits on login, kept in Redis, answered with 429 and Retry-After."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Depends, FastAPI
from redis.asyncio import Redis

from api.ratelimit import limit_per_minute
from domain.identity.roles import Role
from services.config import Settings
from tests.conftest import PASSWORD, MemberFactory


async def test_login_attempts_are_limited_per_username(
    client: httpx.AsyncClient, make_member: MemberFactory, settings: Settings
) -> None:
    member = await make_member(Role.ENTERPRISE)
    limit = settings.login_rate_per_minute
    data = {"grant_type": "password", "username": member.username, "password": "guess-guess-guess"}
    statuses = [(await client.post("/v1/auth/token", data=data)).status_code for _ in range(limit)]
    assert statuses == [401] * limit

    blocked = await client.post("/v1/auth/token", data=data | {"password": PASSWORD})
    assert blocked.status_code == 429
    assert blocked.headers["content-type"] == "application/problem+json"
    assert blocked.json()["code"] == "rate_limited"
    assert 1 <= int(blocked.headers["retry-after"]) <= 60
    assert blocked.json()["retry_after"] == int(blocked.headers["retry-after"])


async def test_the_limit_lives_in_redis_under_the_configured_prefix(
    client: httpx.AsyncClient, make_member: MemberFactory, settings: Settings
) -> None:
    member = await make_member(Role.BANK)
    data = {"grant_type": "password", "username": member.username, "password": PASSWORD}
    assert (await client.post("/v1/auth/token", data=data)).status_code == 200
    assert settings.redis_url
    redis = Redis.from_url(settings.redis_url)
    try:
        keys = sorted([key.decode() async for key in redis.scan_iter(match=settings.redis_prefix + "*")])
        assert keys == [
            f"{settings.redis_prefix}ratelimit:login-ip:203.0.113.7",
            f"{settings.redis_prefix}ratelimit:login-user:{member.username}",
        ]
        assert int(await redis.get(keys[0]) or 0) == 1
        # Clearing the window (Redis may lose it at any time) lets the client in again.
        await redis.delete(*keys)
    finally:
        await redis.aclose()


async def test_public_routes_share_a_per_address_limit(app: FastAPI, settings: Settings) -> None:
    """The dependency public read routes use: the limit counts per client address and answers 429 past it."""
    router = APIRouter()

    @router.get("/v1/public/probe", dependencies=[Depends(limit_per_minute("public", lambda _: 3))])
    async def probe() -> dict[str, str]:
        return {"ok": "yes"}

    app.include_router(router)
    near = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("198.51.100.1", 1)), base_url="http://t")
    far = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("198.51.100.2", 1)), base_url="http://t")
    async with near, far:
        statuses = [(await near.get("/v1/public/probe")).status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429]
        assert (await far.get("/v1/public/probe")).status_code == 200
