"""Registry routes of credits: holdings, transfers between holders, retirements and cancellations (final)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import Caller, ReadSession, State
from api.idempotency import Idempotent
from api.problems import problem_responses
from api.routers import registry_credit_schemas as schemas
from api.routers.registry_common import WRITE_PROBLEMS, Holder
from services.registry import credits

router = APIRouter(tags=["registry"])  # included under /v1/registry by registry.py


@router.get("/holdings", summary="The caller's credit holdings with serial ranges", responses=problem_responses(401))
async def list_holdings(principal: Caller, session: ReadSession) -> list[schemas.HoldingRead]:
    rows = await credits.holdings(session, principal.organisation_id)
    return [
        schemas.HoldingRead(
            asset_code=asset.code, purpose=account.purpose, balance=account.balance, serial_ranges=ranges
        )
        for asset, account, ranges in rows
    ]


@router.post("/transfers", status_code=201, summary="Transfer credits to another holder", responses=WRITE_PROBLEMS)
async def transfer_credits(body: schemas.TransferIn, principal: Holder, idem: Idempotent) -> schemas.TransferRead:
    async def effect(session: AsyncSession) -> schemas.TransferRead:
        transfer_id, serials = await credits.transfer(
            session, principal, asset_code=body.asset_code, quantity=body.quantity, recipient_id=body.recipient_id
        )
        return schemas.TransferRead(
            transfer_id=transfer_id,
            asset_code=body.asset_code,
            quantity=body.quantity,
            recipient_id=body.recipient_id,
            serials=serials,
        )

    return await idem.run(effect, status_code=201)


@router.post("/retirements", status_code=201, summary="Retire credits (final)", responses=WRITE_PROBLEMS)
async def retire_credits(
    body: schemas.RetirementIn, principal: Holder, idem: Idempotent, state: State
) -> schemas.RetirementRead:
    async def effect(session: AsyncSession) -> schemas.RetirementRead:
        row = await credits.retire(
            session,
            principal,
            asset_code=body.asset_code,
            quantity=body.quantity,
            beneficiary=body.beneficiary,
            purpose=body.purpose,
            claim_start=body.claim_start,
            claim_end=body.claim_end,
        )
        retirement, project = await credits.get_retirement(session, row.number)
        return schemas.RetirementRead.of(retirement, project, state.settings.public_base_url)

    return await idem.run(effect, status_code=201)


@router.post("/cancellations", status_code=201, summary="Cancel credits (final)", responses=WRITE_PROBLEMS)
async def cancel_credits(body: schemas.CancellationIn, principal: Holder, idem: Idempotent) -> schemas.CancellationRead:
    async def effect(session: AsyncSession) -> schemas.CancellationRead:
        row = await credits.cancel(
            session, principal, asset_code=body.asset_code, quantity=body.quantity, reason=body.reason
        )
        return schemas.CancellationRead.of(row)

    return await idem.run(effect, status_code=201)
