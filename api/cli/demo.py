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


DEMO_INVENTORY_ROWS = 20_000


async def ensure_inventory(database_url: str) -> int:
    """Import a synthetic Bazhong inventory once (the demo project is built from its sub-compartments)."""
    import csv
    import tempfile
    from pathlib import Path

    import asyncpg

    from domain.registry.bazhong import synthesize
    from domain.registry.inventory import COLUMNS, CarbonFactors
    from domain.registry.methodology import DEFAULT_METHODOLOGY
    from services.db import to_asyncpg_dsn
    from services.inventory.importer import import_csv

    connection = await asyncpg.connect(to_asyncpg_dsn(database_url))
    try:
        present = int(await connection.fetchval("SELECT count(*) FROM inventory_sub_compartment"))
        if present:
            return 0
        inventory = synthesize(CarbonFactors.of(DEFAULT_METHODOLOGY), DEMO_INVENTORY_ROWS, seed=2026)
        with tempfile.TemporaryDirectory(prefix="bashan-demo-") as folder:
            path = Path(folder) / "bazhong-inventory.csv"
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(COLUMNS)
                writer.writerows(inventory.csv_rows())
            return (await import_csv(connection, path)).rows
    finally:
        await connection.close()


async def registry_story(database_url: str) -> list[str]:
    """The registry's whole path on the demo organisations; returns what to print."""
    from services.registry import walkthrough

    settings = get_settings()
    imported = await ensure_inventory(database_url)
    engine = make_engine(database_url, pool_size=2)
    try:
        sessions = make_sessionmaker(engine)
        names = {spec.role: spec.name for spec in DEMO_ORGANISATIONS}
        wanted = {Role.OPERATOR, Role.VERIFIER, Role.PROJECT_OWNER, Role.ENTERPRISE}
        cast = await walkthrough.find_cast(sessions, {role: names[role] for role in wanted})
        result = await walkthrough.walk(sessions, settings, cast)
    finally:
        await engine.dispose()
    folder = settings.data_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    certificate = folder / f"{result.retirement_number}.pdf"
    certificate.write_bytes(result.certificate_pdf)
    base = settings.public_base_url.rstrip("/")
    lines = ["Demo registry story (a Nanjiang project from the synthetic Bazhong inventory):"]
    if imported:
        lines.append(f"  inventory    {imported:,} synthetic sub-compartments imported")
    lines += [
        f"  project      {result.project_code}: {result.parcels} sub-compartments, {result.area_mu} mu",
        f"  issued       {result.issued:,} t to the owner, {result.buffer:,} t to the buffer pool",
        f"  serials      {result.serials}",
        f"  transferred  {result.transferred:,} t to the enterprise",
        f"  retired      {result.retired:,} t as {result.retirement_number}",
        f"  certificate  {certificate}",
        f"  verify at    {base}/v1/public/retirements/{result.retirement_number}",
    ]
    return lines
