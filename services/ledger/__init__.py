"""The ledger's service API, for every capability that moves value (registry, market, pledges).

    from services import ledger
    cny = await ledger.ensure_asset(session, code="CNY", kind=AssetKind.CURRENCY, name="Renminbi", unit="fen")
    cash = await ledger.open_account(session, asset_id=cny.id, owner_id=org_id, purpose=Purpose.AVAILABLE)
    results = await ledger.post(session, [TransferSpec(new_transfer_id(), source.id, cash.id, 10_000, "deposit")])
    await ledger.post_linked(session, [...])   # all or nothing; raises the refusal naming the failed transfer

All of it runs in the caller's transaction (one unit of work). Transfer ids come from
``domain.ledger.ids.new_transfer_id``: time-ordered, so the transfer table's key grows at its right-hand edge.
"""

from domain.ledger.codes import AccountFlags, AssetKind, Purpose, ResultCode, TransferFlags
from domain.ledger.transfers import TransferResult, TransferSpec, first_failure, refusal
from services.ledger.auditor import AuditReport, audit
from services.ledger.posting import post, post_in_transaction, post_linked, post_with_connection
from services.ledger.repository import (
    ensure_asset,
    find_account,
    find_asset,
    get_account,
    get_asset,
    get_transfer,
    lookup_serial,
    open_account,
    serial_ranges,
)
from services.ledger.sealer import VerifyReport, seal, verify
from services.ledger.timeouts import expire_pendings

__all__ = [
    "AccountFlags",
    "AssetKind",
    "AuditReport",
    "Purpose",
    "ResultCode",
    "TransferFlags",
    "TransferResult",
    "TransferSpec",
    "VerifyReport",
    "audit",
    "ensure_asset",
    "expire_pendings",
    "find_account",
    "find_asset",
    "first_failure",
    "get_account",
    "get_asset",
    "get_transfer",
    "lookup_serial",
    "open_account",
    "post",
    "post_in_transaction",
    "post_linked",
    "post_with_connection",
    "refusal",
    "seal",
    "serial_ranges",
    "verify",
]
