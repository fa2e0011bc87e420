"""Demo data: one organisation of every role, each with a login and an API key, printed for a new user."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import typer

from domain.identity.roles import Role
from services.config import get_settings
from services.db import make_engine, make_sessionmaker, unit_of_work
from services.embedded import resolve_servers
from services.identity import service as identity

app = typer.Typer(help="Demo data.", no_args_is_help=True)

# Demo logins are printed on purpose: they exist only in demo databases a user creates with `make demo`.
DEMO_PASSWORD = "bashan-demo-2026"


@dataclass(frozen=True)
class DemoOrganisation:
    name: str
    role: Role
    username: str


DEMO_ORGANISATIONS = (
    DemoOrganisation("巴中市碳汇登记中心 Bazhong Registry Operator", Role.OPERATOR, "operator@demo"),
    DemoOrganisation("四川林业核查中心 Sichuan Forestry Verification", Role.VERIFIER, "verifier@demo"),
    DemoOrganisation("南江县林业合作社 Nanjiang Forest Cooperative", Role.PROJECT_OWNER, "owner@demo"),
    DemoOrganisation("巴中绿色建材有限公司 Bazhong Green Materials", Role.ENTERPRISE, "buyer@demo"),
    DemoOrganisation("巴中农商银行 Bazhong Rural Commercial Bank", Role.BANK, "bank@demo"),
    DemoOrganisation("巴山生态认证中心 Bashan Eco-label Certification", Role.CERTIFIER, "certifier@demo"),
)


@dataclass(frozen=True)
class DemoLogin:
    organisation: str
    role: Role
    username: str
    password: str
    api_key: str


async def load(database_url: str, *, quiet: bool = False) -> list[DemoLogin]:
    """Create what is missing (safe to run again); every run prints a fresh API key per organisation."""
    from services.registry.methodologies import seed_database

    await seed_database(database_url)
    engine = make_engine(database_url, pool_size=2)
    sessions = make_sessionmaker(engine)
    logins: list[DemoLogin] = []
    try:
        for spec in DEMO_ORGANISATIONS:
            async with unit_of_work(sessions) as session:
                organisation = await identity.find_organisation(session, spec.name)
                if organisation is None:
                    organisation = await identity.create_organisation(
                        session, name=spec.name, role=spec.role, actor=None
                    )
                    await identity.create_user(
                        session,
                        organisation_id=organisation.id,
                        username=spec.username,
                        password=DEMO_PASSWORD,
                        display_name=spec.name,
                        actor=None,
                    )
                issued = await identity.create_api_key(
                    session, organisation_id=organisation.id, name="demo key", scopes=None, actor=None
                )
                logins.append(DemoLogin(spec.name, spec.role, spec.username, DEMO_PASSWORD, issued.token))
    finally:
        await engine.dispose()
    if not quiet:
        print_logins(logins)
    return logins


def print_logins(logins: list[DemoLogin]) -> None:
    typer.echo("\nDemo logins (password grant at POST /v1/auth/token, or the API key as a bearer token):")
    for login in logins:
        typer.echo(f"  {login.role.value:<14} {login.username:<16} password {login.password}")
        typer.echo(f"  {'':<14} API key {login.api_key}")
    typer.echo("")


@app.command("load")
def load_command() -> None:
    """Create demo organisations, users and API keys for every role, and print them."""
    from services.migrate import upgrade_sync

    servers = resolve_servers(get_settings())
    try:
        upgrade_sync(servers.database_url)
        asyncio.run(load(servers.database_url))
    finally:
        servers.stop()
