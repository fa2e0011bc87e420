"""``bashan registry``: the registry's whole path on the demo organisations."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from domain.identity.roles import Role
from services.config import get_settings
from services.embedded import resolve_servers

app = typer.Typer(help="Forest carbon registry.", no_args_is_help=True)
_CAST = frozenset({Role.OPERATOR, Role.VERIFIER, Role.PROJECT_OWNER, Role.ENTERPRISE})


@app.command("demo")
def demo_command(
    out: Annotated[Path, typer.Option(help="folder for the retirement certificate PDF")] = Path(".data/demo"),
) -> None:
    """Take a Nanjiang project from the imported inventory to issued credits, a transfer and a retirement."""
    from api.cli import demo
    from services.db import make_engine, make_sessionmaker
    from services.migrate import upgrade_sync
    from services.registry import walkthrough

    settings = get_settings()
    servers = resolve_servers(settings)

    async def run() -> walkthrough.WalkResult:
        await demo.load(servers.database_url, quiet=True)
        engine = make_engine(servers.database_url, pool_size=2)
        try:
            sessions = make_sessionmaker(engine)
            names = {spec.role: spec.name for spec in demo.DEMO_ORGANISATIONS}
            cast = await walkthrough.find_cast(sessions, {role: names[role] for role in names if role in _CAST})
            return await walkthrough.walk(sessions, settings, cast)
        finally:
            await engine.dispose()

    try:
        upgrade_sync(servers.database_url)
        result = asyncio.run(run())
    finally:
        servers.stop()
    out.mkdir(parents=True, exist_ok=True)
    certificate = out / f"{result.retirement_number}.pdf"
    certificate.write_bytes(result.certificate_pdf)
    typer.echo(f"project      {result.project_code}: {result.parcels} sub-compartments, {result.area_mu} mu")
    typer.echo(f"issued       {result.issued:,} t to the owner, {result.buffer:,} t to the buffer pool")
    typer.echo(f"serials      {result.serials}")
    typer.echo(f"transferred  {result.transferred:,} t to the enterprise")
    typer.echo(f"retired      {result.retired:,} t as {result.retirement_number}")
    typer.echo(f"certificate  {certificate}")
    typer.echo(f"verify at    {settings.public_base_url.rstrip('/')}/v1/public/retirements/{result.retirement_number}")
