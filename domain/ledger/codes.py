"""Stable names of the ledger: result codes, transfer flags, asset kinds and account purposes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntFlag, StrEnum

from domain.errors import RuleViolation


class ResultCode(StrEnum):
    """What happened to one transfer of a batch. The values are stable: clients and the API switch on them."""

    OK = "ok"
    EXISTS = "exists"
    LINKED_EVENT_FAILED = "linked_event_failed"
    LINKED_EVENT_CHAIN_OPEN = "linked_event_chain_open"
    ID_REQUIRED = "id_required"
    FLAGS_UNKNOWN = "flags_unknown"
    FLAGS_ARE_MUTUALLY_EXCLUSIVE = "flags_are_mutually_exclusive"
    CODE_INVALID = "code_invalid"
    REFERENCE_TOO_LONG = "reference_too_long"
    PENDING_ID_REQUIRED = "pending_id_required"
    PENDING_ID_MUST_BE_DIFFERENT = "pending_id_must_be_different"
    PENDING_ID_MUST_BE_NULL = "pending_id_must_be_null"
    TIMEOUT_RESERVED_FOR_PENDING_TRANSFER = "timeout_reserved_for_pending_transfer"
    TIMEOUT_INVALID = "timeout_invalid"
    ACCOUNTS_MUST_DIFFER = "accounts_must_differ"
    AMOUNT_MUST_BE_POSITIVE = "amount_must_be_positive"
    EXISTS_WITH_DIFFERENT_FLAGS = "exists_with_different_flags"
    EXISTS_WITH_DIFFERENT_PENDING_ID = "exists_with_different_pending_id"
    EXISTS_WITH_DIFFERENT_TIMEOUT = "exists_with_different_timeout"
    EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID = "exists_with_different_debit_account_id"
    EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID = "exists_with_different_credit_account_id"
    EXISTS_WITH_DIFFERENT_AMOUNT = "exists_with_different_amount"
    EXISTS_WITH_DIFFERENT_ASSET = "exists_with_different_asset"
    EXISTS_WITH_DIFFERENT_CODE = "exists_with_different_code"
    EXISTS_WITH_DIFFERENT_REFERENCE = "exists_with_different_reference"
    PENDING_NOT_FOUND = "pending_not_found"
    PENDING_NOT_PENDING = "pending_not_pending"
    PENDING_HAS_DIFFERENT_DEBIT_ACCOUNT = "pending_has_different_debit_account"
    PENDING_HAS_DIFFERENT_CREDIT_ACCOUNT = "pending_has_different_credit_account"
    PENDING_HAS_DIFFERENT_ASSET = "pending_has_different_asset"
    PENDING_HAS_DIFFERENT_AMOUNT = "pending_has_different_amount"
    EXCEEDS_PENDING_AMOUNT = "exceeds_pending_amount"
    PENDING_ALREADY_POSTED = "pending_already_posted"
    PENDING_ALREADY_VOIDED = "pending_already_voided"
    PENDING_EXPIRED = "pending_expired"
    DEBIT_ACCOUNT_NOT_FOUND = "debit_account_not_found"
    CREDIT_ACCOUNT_NOT_FOUND = "credit_account_not_found"
    ASSET_MISMATCH = "asset_mismatch"
    DEBIT_ACCOUNT_RETIRED = "debit_account_retired"
    OVERFLOWS_DEBITS = "overflows_debits"
    OVERFLOWS_CREDITS = "overflows_credits"
    EXCEEDS_CREDITS = "exceeds_credits"
    EXCEEDS_DEBITS = "exceeds_debits"

    @property
    def succeeded(self) -> bool:
        """The transfer is in the ledger as asked: new (ok) or already there with the same fields (exists)."""
        return self in (ResultCode.OK, ResultCode.EXISTS)

    @property
    def conflicts(self) -> bool:
        """The id is taken by a transfer with other fields."""
        return self.value.startswith("exists_with_different_")


class TransferFlags(IntFlag):
    """Bit set of a transfer, as ``ledger_post`` takes it."""

    NONE = 0
    LINKED = 1
    PENDING = 2
    POST_PENDING = 4
    VOID_PENDING = 8


class AssetKind(StrEnum):
    CURRENCY = "currency"
    CREDIT_BATCH = "credit_batch"
    PRODUCT_LOT = "product_lot"


class Purpose(StrEnum):
    AVAILABLE = "available"
    HELD = "held"
    PLEDGED = "pledged"
    RETIRED = "retired"
    CANCELLED = "cancelled"
    BUFFER = "buffer"
    ISSUANCE = "issuance"
    FEES = "fees"
    SETTLEMENT = "settlement"


@dataclass(frozen=True)
class AccountFlags:
    debits_must_not_exceed_credits: bool = False
    credits_must_not_exceed_debits: bool = False
    retired: bool = False

    def __post_init__(self) -> None:
        # The rule of the account trigger's ck_account_flags_exclusive (migrations 0002, 0008), said before the insert.
        if self.debits_must_not_exceed_credits and self.credits_must_not_exceed_debits:
            raise RuleViolation("an account limits its debits or its credits, not both", code="account_flags_exclusive")


# Holdings can never go negative; the issuance source can only be credited back what it issued; retirement and
# cancellation are final (never debited).
HOLDING = AccountFlags(debits_must_not_exceed_credits=True)
SOURCE = AccountFlags(credits_must_not_exceed_debits=True)
FINAL = AccountFlags(debits_must_not_exceed_credits=True, retired=True)

DEFAULT_FLAGS: dict[Purpose, AccountFlags] = {
    Purpose.AVAILABLE: HOLDING,
    Purpose.HELD: HOLDING,
    Purpose.PLEDGED: HOLDING,
    Purpose.BUFFER: HOLDING,
    Purpose.FEES: HOLDING,
    Purpose.SETTLEMENT: HOLDING,
    Purpose.ISSUANCE: SOURCE,
    Purpose.RETIRED: FINAL,
    Purpose.CANCELLED: FINAL,
}
