"""A transfer as callers ask for it, and what the ledger answered."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from domain.errors import Conflict, RuleViolation
from domain.ledger.codes import ResultCode, TransferFlags

CODE_FORMAT = re.compile(r"^[a-z][a-z0-9_]{0,39}\Z")  # \Z, not $: $ also matches before a final newline
MAX_REFERENCE = 500


@dataclass(frozen=True)
class TransferSpec:
    """One transfer to post. ``id`` is chosen by the caller and doubles as its idempotency key.

    A post or void (``POST_PENDING`` / ``VOID_PENDING``) names ``pending_id`` and may leave the accounts and the
    amount None: they come from the pending, and a post without an amount posts the whole pending amount.
    """

    id: uuid.UUID
    debit_account_id: int | None
    credit_account_id: int | None
    amount: int | None
    code: str
    flags: TransferFlags = TransferFlags.NONE
    pending_id: uuid.UUID | None = None
    timeout_seconds: int | None = None
    asset_id: int | None = None
    reference: str | None = None

    def with_flags(self, flags: TransferFlags) -> TransferSpec:
        return TransferSpec(
            self.id,
            self.debit_account_id,
            self.credit_account_id,
            self.amount,
            self.code,
            flags,
            self.pending_id,
            self.timeout_seconds,
            self.asset_id,
            self.reference,
        )


@dataclass(frozen=True)
class TransferResult:
    index: int
    id: uuid.UUID
    code: ResultCode

    @property
    def succeeded(self) -> bool:
        return self.code.succeeded


class TransferRefused(RuleViolation):
    """A transfer of a batch was refused; ``code`` is its result code, the context names the transfer."""


class TransferConflict(Conflict):
    """The transfer id exists with other fields."""


def refusal(result: TransferResult) -> RuleViolation | Conflict:
    """The domain error for a refused transfer (the API turns it into problem+json with the same code)."""
    detail = f"transfer {result.id} (#{result.index}) refused: {result.code.value}"
    if result.code.conflicts:
        return TransferConflict(detail, code=result.code.value, transfer_id=str(result.id), index=result.index)
    return TransferRefused(detail, code=result.code.value, transfer_id=str(result.id), index=result.index)


def first_failure(results: list[TransferResult]) -> TransferResult | None:
    """The transfer that caused a refusal: the first whose code is its own (not a linked chain's echo)."""
    echoes = (ResultCode.LINKED_EVENT_FAILED,)
    own = [result for result in results if not result.succeeded and result.code not in echoes]
    if own:
        return own[0]
    return next((result for result in results if not result.succeeded), None)


def validate_code(code: str) -> str:
    if not CODE_FORMAT.match(code):
        raise RuleViolation("a transfer code is 1-40 lowercase letters, digits or _", code="code_invalid")
    return code
