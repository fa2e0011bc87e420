"""The `bashan` command line, run as a user would run it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import EmptyDatabase, ServerUrls

BASHAN = str(Path(sys.executable).parent / "bashan")


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("BASHAN_")}
    return subprocess.run([BASHAN, *args], env=clean | env, capture_output=True, text=True, timeout=120, check=False)


def test_doctor_diagnoses_an_unreachable_database_plainly(servers: ServerUrls, tmp_path: Path) -> None:
    result = run(
        "doctor",
        env={
            "BASHAN_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/bashan",
            "BASHAN_REDIS_URL": servers.redis_url,
            "BASHAN_DATA_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert "[FAIL] database unreachable" in output
    assert "start PostgreSQL, or fix BASHAN_DATABASE_URL" in output
    assert "[ok] redis answers" in output


def test_doctor_passes_and_db_current_reports_head(servers: ServerUrls, tmp_path: Path) -> None:
    env = {
        "BASHAN_DATABASE_URL": servers.database_url,
        "BASHAN_REDIS_URL": servers.redis_url,
        "BASHAN_DATA_DIR": str(tmp_path),
    }
    doctor = run("doctor", env=env)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "OK: the platform can run here" in doctor.stdout
    current = run("db", "current", env=env)
    assert current.returncode == 0
    assert "(at head)" in current.stdout


async def test_commands_on_an_empty_or_unreachable_database_say_so_plainly(
    servers: ServerUrls, empty_database: EmptyDatabase, tmp_path: Path
) -> None:
    base = {"BASHAN_REDIS_URL": servers.redis_url, "BASHAN_DATA_DIR": str(tmp_path)}
    empty = base | {"BASHAN_DATABASE_URL": empty_database.url}
    for command in (("ledger", "verify"), ("ledger", "audit")):
        result = await asyncio.to_thread(run, *command, env=empty)
        assert result.returncode == 1, command
        assert "Traceback" not in result.stdout + result.stderr
        assert "has no Bashan schema" in result.stderr
        assert "bashan db upgrade" in result.stderr
    unreachable = base | {"BASHAN_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/bashan"}
    result = await asyncio.to_thread(run, "ledger", "audit", env=unreachable)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "the database cannot be reached" in result.stderr
