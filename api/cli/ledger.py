"""``bashan ledger verify | audit | seal | expire``: the ledger's integrity, from the command line."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from services import ledger
from services.config import get_settings
from services.db import make_engine, make_sessionmaker, unit_of_work
from services.embedded import resolve_servers

app = typer.Typer(
    help="Ledger integrity: verify the sealed chain, audit balances, seal, expire pendings.", no_args_is_help=True
)
T = TypeVar("T")


def _run(work: Callable[[AsyncSession], Awaitable[T]], *, read_only: bool = False) -> T:
    servers = resolve_servers(get_settings())

    async def main() -> T:
        engine = make_engine(servers.database_url, pool_size=1)
        try:
            sessions = make_sessionmaker(engine)
            if read_only:
                async with sessions() as session, session.begin():
                    # one snapshot for every check, so concurrent posting cannot make a consistent ledger look wrong
                    await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
                    return await work(session)
            async with unit_of_work(sessions) as session:
                return await work(session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    finally:
        servers.stop()


@app.command()
def verify() -> None:
    """Recompute the hash chain from genesis; print OK or the first bad block and transfer (exit 1)."""
    report = _run(ledger.verify, read_only=True)
    typer.echo(report.describe())
    if not report.ok:
        raise typer.Exit(code=1)


@app.command()
def audit() -> None:
    """Check balances against a replay of the transfers, flags, pendings and serial ranges (exit 1 on a problem)."""
    report = _run(ledger.audit, read_only=True)
    for problem in report.problems:
        typer.echo(f"PROBLEM: {problem}", err=True)
    typer.echo(report.summary())
    if not report.ok:
        raise typer.Exit(code=1)


@app.command()
def seal(
    block_size: Annotated[int, typer.Option(min=1, max=100_000, help="transfers per block")] = 1000,
    max_blocks: Annotated[int, typer.Option(min=1, help="blocks per transaction")] = 1000,
) -> None:
    """Seal every committed transfer that can be sealed now into hash-chained blocks."""
    total = 0
    while True:

        async def work(session: AsyncSession) -> int:
            return await ledger.seal(session, block_size=block_size, max_blocks=max_blocks)

        written = _run(work)
        total += written
        if written < max_blocks:
            break
    typer.echo(f"sealed {total} block(s)")


@app.command()
def expire(limit: Annotated[int, typer.Option(min=1, help="pendings per run")] = 1000) -> None:
    """Void pending transfers whose timeout has passed (database time)."""

    async def work(session: AsyncSession) -> int:
        return await ledger.expire_pendings(session, limit=limit)

    typer.echo(f"voided {_run(work)} expired pending transfer(s)")
