"""What the running API holds: settings, the database engine and sessions, Redis, metrics."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.metrics import Metrics
from services.config import Settings
from services.embedded import EmbeddedServers


@dataclass
class AppState:
    settings: Settings
    servers: EmbeddedServers
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    metrics: Metrics
    secret_key: str

    def redis_key(self, *parts: str) -> str:
        return self.settings.redis_prefix + ":".join(parts)
