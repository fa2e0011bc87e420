"""A simple in-memory ledger with the same rules as ``ledger_post``: the reference the database must agree with."""

from __future__ import annotations

import copy
import hashlib
import uuid
from dataclasses import dataclass, field

from domain.ledger.codes import ResultCode as R
from domain.ledger.codes import TransferFlags as F
from domain.ledger.serials import SerialRange, merge, take_lowest
from domain.ledger.transfers import TransferSpec

MAX = 2**63 - 1


@dataclass
class RefAccount:
    id: int
    asset: int
    dmnec: bool = False
    cmned: bool = False
    retired: bool = False
    dp: int = 0
    cp: int = 0
    dpe: int = 0
    cpe: int = 0
    serialized: bool = False
    ranges: list[SerialRange] = field(default_factory=list)

    @property
    def holds_serials(self) -> bool:
        return self.serialized and (self.dmnec or self.retired)


@dataclass
class Stored:
    """A transfer as the ledger stored it (a post or void with its pending's accounts filled in)."""

    spec: TransferSpec
    debit: int
    credit: int
    asset: int
    amount: int


@dataclass
class ReferenceLedger:
    accounts: dict[int, RefAccount]
    transfers: dict[uuid.UUID, Stored] = field(default_factory=dict)
    resolved: dict[uuid.UUID, str] = field(default_factory=dict)
    expired: set[uuid.UUID] = field(default_factory=set)
    next_serial: dict[int, int] = field(default_factory=dict)

    def _move_serials(self, debit: RefAccount, credit: RefAccount, amount: int) -> None:
        """As ledger_move_serials: the debit account's lowest serials first, else newly minted ones."""
        if not debit.serialized:
            return
        if debit.holds_serials:
            moved, debit.ranges = take_lowest(debit.ranges, amount)
        else:
            first = self.next_serial.get(debit.asset, 1)
            self.next_serial[debit.asset] = first + amount
            moved = [SerialRange(first, first + amount - 1)]
        if credit.holds_serials:
            credit.ranges = merge(credit.ranges + moved)

    def open_pendings(self) -> list[uuid.UUID]:
        return [tid for tid, t in self.transfers.items() if t.spec.flags & F.PENDING and tid not in self.resolved]

    def _compare(self, spec: TransferSpec, old: Stored) -> R:
        timeout = spec.timeout_seconds or None
        if old.spec.flags != spec.flags:
            return R.EXISTS_WITH_DIFFERENT_FLAGS
        if old.spec.pending_id != spec.pending_id:
            return R.EXISTS_WITH_DIFFERENT_PENDING_ID
        if (old.spec.timeout_seconds or None) != timeout:
            return R.EXISTS_WITH_DIFFERENT_TIMEOUT
        if spec.debit_account_id is not None and spec.debit_account_id != old.debit:
            return R.EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID
        if spec.credit_account_id is not None and spec.credit_account_id != old.credit:
            return R.EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID
        if spec.amount and spec.amount != old.amount:
            return R.EXISTS_WITH_DIFFERENT_AMOUNT
        if old.spec.code != spec.code:
            return R.EXISTS_WITH_DIFFERENT_CODE
        if old.spec.reference != spec.reference:
            return R.EXISTS_WITH_DIFFERENT_REFERENCE
        return R.EXISTS

    def _one(self, spec: TransferSpec, committed: set[uuid.UUID]) -> R:
        resolving = bool(spec.flags & (F.POST_PENDING | F.VOID_PENDING))
        if resolving:
            if spec.pending_id is None:
                return R.PENDING_ID_REQUIRED
        else:
            if spec.debit_account_id == spec.credit_account_id:
                return R.ACCOUNTS_MUST_DIFFER
            if spec.amount is None or spec.amount <= 0:
                return R.AMOUNT_MUST_BE_POSITIVE
        if spec.id in self.transfers:
            return self._compare(spec, self.transfers[spec.id])
        if resolving:
            assert spec.pending_id is not None
            pending = self.transfers.get(spec.pending_id)
            if pending is None:
                return R.PENDING_NOT_FOUND
            if not pending.spec.flags & F.PENDING:
                return R.PENDING_NOT_PENDING
            if spec.flags & F.POST_PENDING:
                amount = spec.amount or pending.amount
                if amount > pending.amount:
                    return R.EXCEEDS_PENDING_AMOUNT
            else:
                if spec.amount and spec.amount != pending.amount:
                    return R.PENDING_HAS_DIFFERENT_AMOUNT
                amount = pending.amount
            state = self.resolved.get(spec.pending_id)
            if state == "posted":
                return R.PENDING_ALREADY_POSTED
            if state == "voided":
                return R.PENDING_ALREADY_VOIDED
            if spec.flags & F.POST_PENDING and spec.pending_id in self.expired and spec.pending_id in committed:
                return R.PENDING_EXPIRED
            debit, credit = self.accounts[pending.debit], self.accounts[pending.credit]
            debit.dpe -= pending.amount
            credit.cpe -= pending.amount
            if spec.flags & F.POST_PENDING:
                debit.dp += amount
                credit.cp += amount
                self.resolved[spec.pending_id] = "posted"
                self._move_serials(debit, credit, amount)
            else:
                self.resolved[spec.pending_id] = "voided"
            self.transfers[spec.id] = Stored(spec, pending.debit, pending.credit, pending.asset, amount)
            return R.OK
        assert spec.amount is not None
        if spec.debit_account_id not in self.accounts:
            return R.DEBIT_ACCOUNT_NOT_FOUND
        if spec.credit_account_id not in self.accounts:
            return R.CREDIT_ACCOUNT_NOT_FOUND
        debit, credit = self.accounts[spec.debit_account_id], self.accounts[spec.credit_account_id]
        if debit.asset != credit.asset:
            return R.ASSET_MISMATCH
        if debit.retired:
            return R.DEBIT_ACCOUNT_RETIRED
        amount = spec.amount
        if amount > MAX - debit.dp - debit.dpe:
            return R.OVERFLOWS_DEBITS
        if amount > MAX - credit.cp - credit.cpe:
            return R.OVERFLOWS_CREDITS
        if debit.dmnec and debit.dpe + debit.dp + amount > debit.cp:
            return R.EXCEEDS_CREDITS
        if credit.cmned and credit.cpe + credit.cp + amount > credit.dp:
            return R.EXCEEDS_DEBITS
        if spec.flags & F.PENDING:
            debit.dpe += amount
            credit.cpe += amount
        else:
            debit.dp += amount
            credit.cp += amount
            self._move_serials(debit, credit, amount)
        self.transfers[spec.id] = Stored(spec, debit.id, credit.id, debit.asset, amount)
        return R.OK

    def post(self, specs: list[TransferSpec]) -> list[R]:
        committed = set(self.transfers)
        results: list[R] = []
        chain_start: int | None = None
        saved: tuple[object, ...] | None = None
        failed = False
        for index, spec in enumerate(specs):
            if chain_start is None and spec.flags & F.LINKED:
                chain_start = index
                saved = copy.deepcopy((self.accounts, self.transfers, self.resolved, self.next_serial))
            code = R.LINKED_EVENT_FAILED if failed else self._one(spec, committed)
            results.append(code)
            if not code.succeeded and code is not R.LINKED_EVENT_FAILED and chain_start is not None and not failed:
                self.accounts, self.transfers, self.resolved, self.next_serial = saved  # type: ignore[misc]
                for earlier in range(chain_start, index):
                    results[earlier] = R.LINKED_EVENT_FAILED
                failed = True
            if spec.flags & F.LINKED and index == len(specs) - 1:
                if not failed:
                    self.accounts, self.transfers, self.resolved, self.next_serial = saved  # type: ignore[misc]
                    for earlier in range(chain_start or 0, index):
                        results[earlier] = R.LINKED_EVENT_FAILED
                results[index] = R.LINKED_EVENT_CHAIN_OPEN
            elif not spec.flags & F.LINKED:
                chain_start, saved, failed = None, None, False
        return results

    def expire(self) -> int:
        """What the timeout worker does: void every open pending whose timeout passed."""
        voided = 0
        for pending_id in sorted(self.expired, key=str):
            if pending_id in self.transfers and pending_id not in self.resolved:
                void_id = uuid.UUID(hashlib.md5(f"bashan-ledger-expiry:{pending_id}".encode()).hexdigest())
                spec = TransferSpec(
                    void_id, None, None, None, "expire", F.VOID_PENDING, pending_id, reference="timeout"
                )
                assert self._one(spec, set(self.transfers)) is R.OK
                voided += 1
        return voided
