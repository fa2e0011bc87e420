"""``bashan registry``: the registry's whole path on the demo organisations."""

from __future__ import annotations

import asyncio

import typer

from domain.identity.roles import Role
from services.config import get_settings
from services.embedded import resolve_servers

app = typer.Typer(help="Forest carbon registry.", no_args_is_help=True)
_CAST = frozenset({Role.OPERATOR, Role.VERIFIER, Role.PROJECT_OWNER, Role.ENTERPRISE})


@app.command("demo")
def demo_command() -> None:
    """Take a Nanjiang project from the synthetic inventory to issued credits, a transfer and a retirement."""
    from api.cli import demo
    from services.migrate import upgrade_sync

    servers = resolve_servers(get_settings())

    async def run() -> list[str]:
        await demo.load(servers.database_url, quiet=True)
        return await demo.registry_story(servers.database_url)

    try:
        upgrade_sync(servers.database_url)
        lines = asyncio.run(run())
    finally:
        servers.stop()
    for line in lines:
        typer.echo(line)
