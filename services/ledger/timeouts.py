"""Voids pending transfers whose timeout passed, by database time (``now()`` in ``ledger_expire_pendings``)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def expire_pendings(session: AsyncSession, *, limit: int = 1000) -> int:
    """Void up to ``limit`` expired pendings in the caller's transaction; returns how many were voided."""
    return int(await session.scalar(text("SELECT ledger_expire_pendings(:limit)"), {"limit": limit}) or 0)
