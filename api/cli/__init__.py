"""The ``bashan`` command line: serve, migrate, demo data, users, diagnosis."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from types import FrameType
from typing import Annotated

import typer

from api.cli import bench, demo, inventory, ledger, registry, users
from services.config import get_settings
from services.embedded import redact, resolve_servers

app = typer.Typer(help="Bashan Exchange: carbon registry, ledger and market.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo.app, name="demo")
app.add_typer(users.app, name="user")
app.add_typer(bench.app, name="bench")
app.add_typer(ledger.app, name="ledger")
app.add_typer(registry.app, name="registry")
app.add_typer(inventory.app, name="inventory")


def _exit_on_sigterm() -> None:
    """Make SIGTERM, what a process manager stops a process with, a SystemExit, so that every command's ``finally``
    stops the embedded servers it started. At the default, SIGTERM ended the process at once and left PostgreSQL and
    Redis running; ``serve`` too, since uvicorn shuts down gracefully and then raises the signal again under the
    handler it found."""

    def exit_(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, exit_)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="API processes")] = 1,
    load_demo: Annotated[bool, typer.Option("--demo", help="load demo organisations and logins first")] = False,
) -> None:
    """Migrate the database to head, then run the API and background workers."""
    import uvicorn

    from api.app import create_app
    from services.migrate import upgrade_sync

    settings = get_settings()
    if "public_base_url" not in settings.model_fields_set:
        # Links printed in QR codes and certificates point at this server unless configured otherwise.
        settings.public_base_url = f"http://{host}:{port}"
        os.environ["BASHAN_PUBLIC_BASE_URL"] = settings.public_base_url
    servers = resolve_servers(settings)
    try:
        typer.echo(f"database: {servers.database_source} ({redact(servers.database_url)})")
        typer.echo(f"redis:    {servers.redis_source} ({redact(servers.redis_url)})")
        upgrade_sync(servers.database_url)
        typer.echo("schema migrated to head")
        from services.registry.methodologies import seed_database

        asyncio.run(seed_database(servers.database_url))
        if load_demo:
            asyncio.run(demo.load(servers.database_url))
            for line in asyncio.run(demo.registry_story(servers.database_url)):
                typer.echo(line)
            typer.echo("")
        typer.echo(f"serving on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
        if workers == 1:
            uvicorn.run(create_app(settings, servers), host=host, port=port, log_config=None)
        else:
            # Worker processes inherit the resolved URLs, so they share this process's embedded servers.
            os.environ["BASHAN_DATABASE_URL"] = servers.database_url
            os.environ["BASHAN_REDIS_URL"] = servers.redis_url
            uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers, log_config=None)
    finally:
        servers.stop()


def _with_servers(action: str, revision: str | None = None) -> None:
    from services import migrate

    settings = get_settings()
    servers = resolve_servers(settings)
    try:
        if action == "upgrade":
            migrate.upgrade_sync(servers.database_url, revision or "head")
            typer.echo(f"upgraded to {revision or 'head'} ({migrate.head_revision()})")
        elif action == "downgrade":
            migrate.downgrade_sync(servers.database_url, revision or "-1")
            typer.echo(f"downgraded to {revision}")
        else:
            from services.db import make_engine

            async def show() -> str | None:
                engine = make_engine(servers.database_url, pool_size=1)
                try:
                    return await migrate.current_revision(engine)
                finally:
                    await engine.dispose()

            current = asyncio.run(show())
            head = migrate.head_revision()
            typer.echo(f"current: {current or 'none'}  head: {head}  {'(at head)' if current == head else ''}")
    finally:
        servers.stop()


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default head)."""
    _with_servers("upgrade", revision)


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="target, e.g. -1 or base")]) -> None:
    """Revert migrations down to REVISION."""
    _with_servers("downgrade", revision)


@db_app.command("current")
def db_current() -> None:
    """Show the database's revision and the code's head."""
    _with_servers("current")


@app.command()
def doctor() -> None:
    """Check the database, Redis and the schema; say plainly what is wrong and how to fix it."""
    from api.cli.doctor import diagnose

    problems = asyncio.run(diagnose(get_settings()))
    if problems:
        typer.echo("\nNOT OK:", err=True)
        for problem in problems:
            typer.echo(f"  - {problem}", err=True)
        raise typer.Exit(code=1)
    typer.echo("\nOK: the platform can run here")


def main() -> None:
    from api.cli.failures import database_failure

    _exit_on_sigterm()
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:
        message = database_failure(error)
        if message is None:
            raise
        typer.echo(f"error: {message}", err=True)
        sys.exit(1)
