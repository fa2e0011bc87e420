"""What the command line says when the database stops a command: one plain sentence and a fix, never a traceback."""

from __future__ import annotations

import asyncpg
from sqlalchemy.exc import DBAPIError, InterfaceError

from services.db import sqlstate

# SQLSTATE classes and codes that mean "this database does not have (this version of) the schema".
SCHEMA_MISSING = {"42P01", "42703", "42883", "42704"}


def database_failure(error: BaseException) -> str | None:
    """The message for a database error that stopped a command, or None when it is not one (a bug: re-raise)."""
    code = sqlstate(error) if isinstance(error, DBAPIError) else getattr(error, "sqlstate", None)
    if code in SCHEMA_MISSING:
        return (
            f"the database has no Bashan schema, or an older one ({_first_line(error)}) "
            "-> run `bashan db upgrade` (`bashan doctor` checks everything)"
        )
    if (code is not None and code.startswith("08")) or isinstance(
        error, OSError | InterfaceError | asyncpg.InterfaceError | asyncpg.PostgresConnectionError
    ):
        return (
            f"the database cannot be reached ({_first_line(error)}) "
            "-> start PostgreSQL or fix BASHAN_DATABASE_URL (`bashan doctor` says more)"
        )
    if code is not None and code.startswith("57P"):
        return f"the database server is shutting down or cancelled the command ({_first_line(error)}) -> try again"
    return None


def _first_line(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    text = str(getattr(original, "__cause__", None) or original).strip()
    return text.splitlines()[0] if text else type(error).__name__
