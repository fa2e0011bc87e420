"""The embedded PostgreSQL stops when its last user leaves, even after an earlier user was killed outright."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil

from services.embedded import HANDLES_FILE, forget_dead_users, start_embedded_postgres

# A user of the embedded server that says where it is, then waits to be killed.
USER_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from services.embedded import start_embedded_postgres
    server, uri = start_embedded_postgres(Path(sys.argv[1]))
    print(server.get_pid(), flush=True)
    time.sleep(600)
    """
)


def _reaped_child() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def _running(pid: int) -> bool:
    """Whether a process runs; an exited one that nobody has reaped yet (a zombie) does not."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_forgetting_dead_users_keeps_the_live_ones(tmp_path: Path) -> None:
    dead = _reaped_child()
    (tmp_path / HANDLES_FILE).write_text(f"[{os.getpid()}, {dead}]")

    assert forget_dead_users(tmp_path) == [dead]
    assert (tmp_path / HANDLES_FILE).read_text() == f"[{os.getpid()}]"
    assert forget_dead_users(tmp_path) == []


def test_no_list_yet_forgets_nothing(tmp_path: Path) -> None:
    assert forget_dead_users(tmp_path) == []
    assert not (tmp_path / HANDLES_FILE).exists()


def test_the_last_user_stops_the_server_after_a_killed_one(tmp_path: Path) -> None:
    folder = tmp_path / "pg"
    root = Path(__file__).resolve().parents[2]
    killed = subprocess.Popen(
        [sys.executable, "-c", USER_SCRIPT, str(folder)], cwd=root, stdout=subprocess.PIPE, text=True
    )
    try:
        assert killed.stdout is not None
        postmaster = int(killed.stdout.readline())
    finally:
        killed.send_signal(signal.SIGKILL)
        killed.wait()
    assert _running(postmaster), "the killed user's server should outlive it"
    assert str(killed.pid) in (folder / HANDLES_FILE).read_text()

    try:
        server, _ = start_embedded_postgres(folder)
        assert server.get_pid() == postmaster  # the same server, found running
        server.cleanup()

        assert not (folder / "postmaster.pid").exists(), "the last user to leave stops the server"
        assert not _running(postmaster)
    finally:
        if _running(postmaster):  # leave no server behind, even when the test fails
            os.kill(postmaster, signal.SIGTERM)
