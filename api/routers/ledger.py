"""The ledger over HTTP: assets and accounts (operator), transfers (operator, idempotent), balances, statements
and serial lookups for an account's owner and the operator. Another organisation's accounts answer 404."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import ReadSession, requires
from api.idempotency import Idempotent
from api.pagination import BIGINT_MAX, INTEGER_MAX, Page, PageParams, make_page, page_params
from api.problems import problem_responses
from domain.errors import Conflict, NotFound
from domain.identity.roles import Role, Scope
from domain.ledger.codes import AccountFlags, AssetKind, TransferFlags
from domain.ledger.transfers import TransferResult, TransferSpec
from services import audit, ledger
from services.identity import service as identity
from services.identity.service import Principal
from services.ledger import repository
from services.ledger.tables import Account, Transfer

router = APIRouter(prefix="/v1/ledger", tags=["ledger"])
Writer = Annotated[Principal, requires(Scope.LEDGER_WRITE)]
Reader = Annotated[Principal, requires(Scope.ACCOUNTS_READ)]
Pages = Annotated[PageParams, Depends(page_params)]
CODE_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
# Ids as the columns hold them: asset ids are integers, account ids bigints. Any id in range may be asked for; one
# out of range could never be found, and the database would refuse to compare with it.
AssetId = Annotated[int, Field(ge=-INTEGER_MAX - 1, le=INTEGER_MAX)]
AccountId = Annotated[int, Field(ge=-BIGINT_MAX - 1, le=BIGINT_MAX)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AssetCreate(Strict):
    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$", examples=["CNY", "BSC-NJ001-2025"])
    kind: AssetKind
    name: str = Field(min_length=1, max_length=200, examples=["Renminbi"])
    unit: str = Field(min_length=1, max_length=20, examples=["fen", "tCO2e"])
    scale: int = Field(default=0, ge=0, le=18, description="decimal places of the display unit (CNY in fen: 2)")


class AssetRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    kind: AssetKind
    name: str
    unit: str
    scale: int
    created_at: datetime


class AccountCreate(Strict):
    asset_id: AssetId
    owner_id: uuid.UUID | None = Field(default=None, description="null for a system account")
    purpose: str = Field(pattern=CODE_PATTERN, examples=["available", "held", "issuance"])
    sub_account: int = Field(default=0, ge=0, le=1023)
    debits_must_not_exceed_credits: bool | None = Field(default=None, description="default: by purpose")
    credits_must_not_exceed_debits: bool | None = None
    retired: bool | None = None


class AccountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    asset_id: int
    owner_id: uuid.UUID | None
    purpose: str
    sub_account: int
    debits_must_not_exceed_credits: bool
    credits_must_not_exceed_debits: bool
    retired: bool
    holds_serials: bool
    debits_posted: int
    credits_posted: int
    debits_pending: int
    credits_pending: int
    balance: int = Field(description="credits posted minus debits posted")
    available: int = Field(description="balance less pending debits")
    created_at: datetime


class TransferCreate(Strict):
    id: uuid.UUID = Field(
        description=(
            "chosen by the client; resubmitting the same transfer answers the original. Prefer a time-ordered UUID "
            "(version 7): it lands at the end of the transfer index, where a random one costs more WAL"
        ),
        examples=["019ab6f2-5c3e-7a41-9d2e-6f0c8b1a2e3d"],
    )
    debit_account_id: AccountId | None = Field(default=None, description="may be null for a post or void")
    credit_account_id: AccountId | None = None
    amount: int | None = Field(
        default=None, gt=0, le=BIGINT_MAX, description="null on a post posts the whole pending amount"
    )
    code: str = Field(pattern=CODE_PATTERN, examples=["trade", "issue", "fee", "retire"])
    pending: bool = False
    post_pending: bool = False
    void_pending: bool = False
    pending_id: uuid.UUID | None = None
    timeout_seconds: int | None = Field(default=None, gt=0, le=365 * 86400)
    asset_id: AssetId | None = None
    reference: str | None = Field(default=None, max_length=500, examples=["order 42"])

    def spec(self) -> TransferSpec:
        flags = TransferFlags.NONE
        for wanted, flag in (
            (self.pending, TransferFlags.PENDING),
            (self.post_pending, TransferFlags.POST_PENDING),
            (self.void_pending, TransferFlags.VOID_PENDING),
        ):
            if wanted:
                flags |= flag
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


class LinkedTransfersCreate(Strict):
    transfers: list[TransferCreate] = Field(min_length=1, max_length=1000)


class TransferRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    seq: int
    debit_account_id: int
    credit_account_id: int
    asset_id: int
    amount: int
    code: str
    pending: bool
    post_pending: bool
    void_pending: bool
    linked: bool
    pending_id: uuid.UUID | None
    timeout_seconds: int | None
    expires_at: datetime | None
    reference: str | None
    created_at: datetime
    result: str | None = Field(default=None, description="ok (new) or exists (already posted, same fields)")


class TransfersPosted(BaseModel):
    transfers: list[TransferRead]


class SerialMovementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    transfer_id: uuid.UUID
    first_serial: int
    last_serial: int
    from_account_id: int
    to_account_id: int
    minted: bool


class SerialRead(BaseModel):
    asset_id: int
    asset_code: str
    serial: int
    holder_account_id: int | None = Field(description="null once the serial has left circulation")
    range_first: int | None
    range_last: int | None
    history: list[SerialMovementRead]


def _account_read(account: Account) -> AccountRead:
    return AccountRead.model_validate(
        {**{c: getattr(account, c) for c in AccountRead.model_fields if hasattr(account, c)}}
    )


def _is_operator(principal: Principal) -> bool:
    return principal.role is Role.OPERATOR


async def _visible_account(session: AsyncSession, principal: Principal, account_id: int) -> Account:
    account = await repository.get_account(session, account_id)
    if not _is_operator(principal) and account.owner_id != principal.organisation_id:
        raise NotFound(f"no account {account_id}", code="account_not_found")
    return account


async def _posted(session: AsyncSession, results: list[TransferResult]) -> list[TransferRead]:
    rows = await repository.get_transfers(session, [result.id for result in results])
    return [
        TransferRead.model_validate(rows[result.id]).model_copy(update={"result": result.code.value})
        for result in results
    ]


@router.post(
    "/assets", status_code=201, summary="Register an asset (operator)", responses=problem_responses(401, 403, 409, 422)
)
async def create_asset(body: AssetCreate, principal: Writer, idem: Idempotent) -> AssetRead:
    async def effect(session: AsyncSession) -> AssetRead:
        asset = await ledger.ensure_asset(
            session, code=body.code, kind=body.kind, name=body.name, unit=body.unit, scale=body.scale
        )
        if (asset.kind, asset.name, asset.unit, asset.scale) != (body.kind.value, body.name, body.unit, body.scale):
            raise Conflict(f"asset {body.code} exists with other fields", code="asset_exists_with_different_fields")
        await audit.record(session, principal.actor, "ledger.asset.create", "asset", asset.id, {"code": body.code})
        return AssetRead.model_validate(asset)

    return await idem.run(effect, status_code=201)


@router.post(
    "/accounts",
    status_code=201,
    summary="Open an account (operator); flags default by purpose",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_account(body: AccountCreate, principal: Writer, idem: Idempotent) -> AccountRead:
    flags = None
    if any(
        value is not None
        for value in (body.debits_must_not_exceed_credits, body.credits_must_not_exceed_debits, body.retired)
    ):
        flags = AccountFlags(
            bool(body.debits_must_not_exceed_credits), bool(body.credits_must_not_exceed_debits), bool(body.retired)
        )

    async def effect(session: AsyncSession) -> AccountRead:
        await ledger.get_asset(session, body.asset_id)
        if body.owner_id is not None:
            await identity.get_organisation(session, body.owner_id)
        account = await ledger.open_account(
            session,
            asset_id=body.asset_id,
            owner_id=body.owner_id,
            purpose=body.purpose,
            flags=flags,
            sub_account=body.sub_account,
        )
        await audit.record(session, principal.actor, "ledger.account.open", "account", account.id, {})
        return _account_read(account)

    return await idem.run(effect, status_code=201)


@router.get("/accounts", summary="Accounts the caller may see", responses=problem_responses(400, 401, 403))
async def list_accounts(principal: Reader, session: ReadSession, page: Pages) -> Page[AccountRead]:
    after = page.after_as(int)
    rows = await repository.list_accounts(
        session,
        owner_id=principal.organisation_id,
        all_owners=_is_operator(principal),
        after=after[0] if after else None,
        limit=page.limit + 1,
    )
    return make_page([_account_read(row) for row in rows], page.limit, lambda item: (item.id,))


@router.get("/accounts/{account_id}", summary="An account and its balances", responses=problem_responses(401, 403, 404))
async def get_account(account_id: Annotated[AccountId, Path()], principal: Reader, session: ReadSession) -> AccountRead:
    return _account_read(await _visible_account(session, principal, account_id))


@router.get(
    "/accounts/{account_id}/transfers",
    summary="The account's statement, newest first",
    responses=problem_responses(400, 401, 403, 404),
)
async def statement(
    account_id: Annotated[AccountId, Path()], principal: Reader, session: ReadSession, page: Pages
) -> Page[TransferRead]:
    await _visible_account(session, principal, account_id)
    after = page.after_as(int)
    rows = await repository.statement(session, account_id, after_seq=after[0] if after else None, limit=page.limit + 1)
    return make_page([TransferRead.model_validate(row) for row in rows], page.limit, lambda item: (item.seq,))


@router.post(
    "/transfers",
    status_code=201,
    summary="Post one transfer (operator); refusals carry the ledger's result code",
    responses=problem_responses(400, 401, 403, 409, 422),
)
async def create_transfer(body: TransferCreate, principal: Writer, idem: Idempotent) -> TransferRead:
    async def effect(session: AsyncSession) -> TransferRead:
        results = await ledger.post_linked(session, [body.spec()])
        await audit.record(session, principal.actor, "ledger.transfer.post", "transfer", body.id, {"code": body.code})
        return (await _posted(session, results))[0]

    return await idem.run(effect, status_code=201)


@router.post(
    "/transfers/linked",
    status_code=201,
    summary="Post transfers all or nothing (operator); a refusal names the failing transfer (index, id, code)",
    responses=problem_responses(400, 401, 403, 409, 422),
)
async def create_linked_transfers(body: LinkedTransfersCreate, principal: Writer, idem: Idempotent) -> TransfersPosted:
    async def effect(session: AsyncSession) -> TransfersPosted:
        results = await ledger.post_linked(session, [item.spec() for item in body.transfers])
        ids = [str(item.id) for item in body.transfers]
        await audit.record(session, principal.actor, "ledger.transfer.post_linked", "transfer", ids[0], {"ids": ids})
        return TransfersPosted(transfers=await _posted(session, results))

    return await idem.run(effect, status_code=201)


async def _visible_transfer(session: AsyncSession, principal: Principal, transfer: Transfer | None) -> Transfer:
    if transfer is not None and not _is_operator(principal):
        owners = {
            (await repository.get_account(session, transfer.debit_account_id)).owner_id,
            (await repository.get_account(session, transfer.credit_account_id)).owner_id,
        }
        if principal.organisation_id not in owners:
            transfer = None
    if transfer is None:
        raise NotFound("no such transfer", code="transfer_not_found")
    return transfer


@router.get("/transfers/{transfer_id}", summary="One transfer", responses=problem_responses(401, 403, 404))
async def get_transfer(transfer_id: uuid.UUID, principal: Reader, session: ReadSession) -> TransferRead:
    transfer = await _visible_transfer(session, principal, await repository.get_transfer(session, transfer_id))
    return TransferRead.model_validate(transfer)


@router.get(
    "/serials/{asset_code}/{serial}",
    summary="Who holds a serial number, and its history (operator, or the holder)",
    responses=problem_responses(401, 403, 404),
)
async def get_serial(
    asset_code: str, serial: Annotated[int, Path(ge=1, le=BIGINT_MAX)], principal: Reader, session: ReadSession
) -> SerialRead:
    asset = await repository.find_asset(session, asset_code)
    if asset is None:
        raise NotFound(f"no asset {asset_code}", code="asset_not_found")
    holding = await repository.lookup_serial(session, asset.id, serial)
    if not _is_operator(principal):
        holder = await repository.get_account(session, holding.account_id) if holding.account_id else None
        if holder is None or holder.owner_id != principal.organisation_id:
            raise NotFound(f"serial {serial} of {asset_code} is not held by your organisation", code="serial_not_found")
    return SerialRead(
        asset_id=asset.id,
        asset_code=asset.code,
        serial=serial,
        holder_account_id=holding.account_id,
        range_first=holding.range_first,
        range_last=holding.range_last,
        history=[SerialMovementRead.model_validate(move) for move in holding.history],
    )
