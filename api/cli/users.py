"""``bashan user create``: add a login to an organisation (creating the organisation if asked)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from domain.errors import DomainError
from domain.identity.roles import Role
from services.config import get_settings
from services.db import make_engine, make_sessionmaker, unit_of_work
from services.embedded import resolve_servers
from services.identity import service as identity

app = typer.Typer(help="Users.", no_args_is_help=True)


async def _create(
    database_url: str, organisation: str, role: Role | None, username: str, password: str
) -> tuple[str, str]:
    engine = make_engine(database_url, pool_size=1)
    try:
        async with unit_of_work(make_sessionmaker(engine)) as session:
            found = await identity.find_organisation(session, organisation)
            if found is None:
                if role is None:
                    raise DomainError(f"no organisation named {organisation!r}; pass --role to create it")
                found = await identity.create_organisation(session, name=organisation, role=role, actor=None)
            user = await identity.create_user(
                session, organisation_id=found.id, username=username, password=password, actor=None
            )
            return str(user.id), found.role
    finally:
        await engine.dispose()


@app.command("create")
def create(
    organisation: Annotated[str, typer.Option(help="organisation name")],
    username: Annotated[str, typer.Option()],
    role: Annotated[Role | None, typer.Option(help="create the organisation with this role if missing")] = None,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)] = "",
) -> None:
    """Create a user (argon2-hashed password) in an organisation."""
    servers = resolve_servers(get_settings())
    try:
        user_id, org_role = asyncio.run(_create(servers.database_url, organisation, role, username, password))
    except DomainError as error:
        typer.echo(f"refused: {error.detail}", err=True)
        raise typer.Exit(code=1) from None
    finally:
        servers.stop()
    typer.echo(f"created user {username} ({user_id}) in {organisation} [{org_role}]")
