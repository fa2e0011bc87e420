"""Rate limits kept in Redis: a fixed window per route group and client, answering 429 with Retry-After.

Redis holds only what may be lost; if it is unreachable the limit is not enforced (and that is logged),
so an outage of the cache never takes the API down with it.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from fastapi import Request
from redis.exceptions import RedisError

from api.deps import get_state
from domain.errors import DomainError

log = structlog.get_logger("bashan.ratelimit")
WINDOW_SECONDS = 60


class RateLimited(DomainError):
    code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests; retry in {retry_after} s", retry_after=retry_after)
        self.retry_after = retry_after


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def hit(request: Request, group: str, subject: str, limit: int) -> None:
    state = get_state(request)
    key = state.redis_key("ratelimit", group, subject)
    try:
        async with state.redis.pipeline(transaction=True) as pipe:
            # SET NX EX then INCR, rather than EXPIRE NX, which Redis 6.2 (the embedded server) lacks.
            pipe.set(key, 0, ex=WINDOW_SECONDS, nx=True)
            pipe.incr(key)
            pipe.ttl(key)
            _, count, ttl = await pipe.execute()
    except (RedisError, OSError) as error:
        log.warning("rate limit not enforced: redis unavailable", error=str(error), group=group)
        return
    if int(count) > limit:
        raise RateLimited(retry_after=max(int(ttl), 1))


def limit_per_minute(group: str, limit_of: Callable[[Request], int]) -> Callable[[Request], object]:
    """A dependency limiting a route group per client address."""

    async def dependency(request: Request) -> None:
        await hit(request, group, client_address(request), limit_of(request))

    return dependency


def public_limit(request: Request) -> int:
    return get_state(request).settings.public_rate_per_minute
