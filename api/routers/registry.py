"""The registry API for members, gathered under /v1/registry: methodologies and verifier accreditation here;
projects (registry_projects.py), monitoring, verification, issuance and reversals (registry_monitoring.py) and
credits (registry_credits.py) in their own modules. Thin routes: parse, authorize (scope), call one service, shape.

Public, login-free reads live in api/routers/public.py.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import Caller, ReadSession
from api.idempotency import Idempotent
from api.pagination import Page, cursor_integer, make_page
from api.problems import problem_responses
from api.routers import registry_credits, registry_monitoring, registry_projects
from api.routers import registry_schemas as schemas
from api.routers.registry_common import (
    PREFIX,
    WRITE_PROBLEMS,
    MethodologyCode,
    MethodologyVersion,
    Operator,
    Pages,
)
from domain.identity.roles import Role
from services.registry import methodologies, verifiers

router = APIRouter(prefix=PREFIX, tags=["registry"])


# --- methodologies and verifiers ------------------------------------------------------------------------------------


@router.post(
    "/methodologies",
    status_code=201,
    summary="Draft the next version of a methodology (operator)",
    responses=WRITE_PROBLEMS,
)
async def draft_methodology(
    body: schemas.MethodologyIn, principal: Operator, idem: Idempotent
) -> schemas.MethodologyRead:
    async def effect(session: AsyncSession) -> schemas.MethodologyRead:
        row = await methodologies.create_draft(session, body.definition(), principal.actor)
        return schemas.MethodologyRead.model_validate(row)

    return await idem.run(effect, status_code=201)


@router.post(
    "/methodologies/{code}/{version}/publication",
    summary="Publish a draft: it becomes active, the previous active version of its code superseded (operator)",
    responses=WRITE_PROBLEMS,
)
async def publish_methodology(
    code: MethodologyCode,
    version: MethodologyVersion,
    principal: Operator,
    idem: Idempotent,
    body: Annotated[schemas.EmptyIn | None, Body()] = None,
) -> schemas.MethodologyRead:
    async def effect(session: AsyncSession) -> schemas.MethodologyRead:
        row = await methodologies.publish(session, code, version, principal.actor)
        return schemas.MethodologyRead.model_validate(row)

    return await idem.run(effect)


@router.post(
    "/methodologies/{code}/{version}/withdrawal",
    summary="Withdraw a draft or an active version, with a reason (operator)",
    responses=WRITE_PROBLEMS,
)
async def withdraw_methodology(
    code: MethodologyCode,
    version: MethodologyVersion,
    body: schemas.MethodologyWithdrawalIn,
    principal: Operator,
    idem: Idempotent,
) -> schemas.MethodologyRead:
    async def effect(session: AsyncSession) -> schemas.MethodologyRead:
        row = await methodologies.withdraw(session, code, version, body.reason, principal.actor)
        return schemas.MethodologyRead.model_validate(row)

    return await idem.run(effect)


@router.get(
    "/methodologies",
    summary="Every methodology version, drafts included (operator)",
    responses=problem_responses(400, 401, 403),
)
async def list_methodologies(principal: Operator, session: ReadSession, page: Pages) -> Page[schemas.MethodologyRead]:
    after = page.after_as(cursor_integer)  # an integer column
    rows = await methodologies.list_versions(
        session, after=after[0] if after else None, limit=page.limit + 1, include_drafts=True
    )
    items = [schemas.MethodologyRead.model_validate(row) for row in rows]
    return make_page(items, page.limit, lambda item: (item.id,))


@router.post(
    "/verifier-accreditations", status_code=201, summary="Accredit a verifier (operator)", responses=WRITE_PROBLEMS
)
async def accredit_verifier(
    body: schemas.AccreditationIn, principal: Operator, idem: Idempotent
) -> schemas.AccreditationRead:
    async def effect(session: AsyncSession) -> schemas.AccreditationRead:
        row = await verifiers.accredit(
            session,
            organisation_id=body.organisation_id,
            scope=body.scope,
            valid_from=body.valid_from,
            valid_until=body.valid_until,
            actor=principal.actor,
        )
        return schemas.AccreditationRead.model_validate(row)

    return await idem.run(effect, status_code=201)


@router.post(
    "/verifier-accreditations/{accreditation_id}/revocation",
    summary="Revoke an accreditation (operator)",
    responses=WRITE_PROBLEMS,
)
async def revoke_accreditation(
    accreditation_id: uuid.UUID, body: schemas.RevocationIn, principal: Operator, idem: Idempotent
) -> schemas.AccreditationRead:
    async def effect(session: AsyncSession) -> schemas.AccreditationRead:
        row = await verifiers.revoke(session, accreditation_id, body.reason, principal.actor)
        return schemas.AccreditationRead.model_validate(row)

    return await idem.run(effect)


@router.get(
    "/verifier-accreditations",
    summary="Accreditations: all for the operator, its own for a verifier",
    responses=problem_responses(400, 401),
)
async def list_accreditations(principal: Caller, session: ReadSession, page: Pages) -> Page[schemas.AccreditationRead]:
    after = page.after_as(uuid.UUID)
    rows = await verifiers.list_accreditations(
        session,
        organisation_id=None if principal.role is Role.OPERATOR else principal.organisation_id,
        after=after[0] if after else None,
        limit=page.limit + 1,
    )
    items = [schemas.AccreditationRead.model_validate(row) for row in rows]
    return make_page(items, page.limit, lambda item: (str(item.id),))


for area in (registry_projects, registry_monitoring, registry_credits):
    router.include_router(area.router)
