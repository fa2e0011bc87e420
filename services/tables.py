"""Imports every table module so the shared metadata knows the whole schema (for Alembic and the tests)."""

from services import audit, idempotency  # noqa: F401
from services.identity import tables as identity_tables  # noqa: F401
from services.labels import tables as labels_tables  # noqa: F401
from services.ledger import tables as ledger_tables  # noqa: F401
from services.registry import tables as registry_tables  # noqa: F401
