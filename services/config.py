"""Settings, read from the environment (prefix ``BASHAN_``) and an optional ``.env`` file."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BASHAN_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="postgresql+asyncpg:// URL; unset starts an embedded PostgreSQL in <data_dir>/pg",
    )
    redis_url: str | None = Field(
        default=None,
        description="redis:// or unix:// URL; unset starts an embedded Redis in <data_dir>/redis",
    )
    redis_prefix: str = Field(default="bashan:", description="prefix of every Redis key this process writes")
    secret_key: SecretStr | None = Field(
        default=None, description="JWT signing key; unset uses a random key kept in <data_dir>/secret_key"
    )
    data_dir: Path = Field(default=Path(".data"), description="folder for embedded servers and local state")
    log_level: LogLevel = "INFO"
    log_json: bool = True
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    login_rate_per_minute: int = Field(default=10, ge=1)
    public_rate_per_minute: int = Field(default=600, ge=1)
    db_pool_size: int = Field(default=10, ge=1)
    run_workers: bool = Field(default=True, description="run the background jobs inside the API process")
    public_base_url: str = Field(default="http://127.0.0.1:8000", description="base of links printed in QR codes")

    def resolved_secret_key(self) -> str:
        """The configured key, else one generated once and kept in the data folder (never in the repo)."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
