"""Who am I, organisations, users, API keys and the audit trail.

An organisation sees only itself; the operator sees every organisation. Another organisation's private
objects answer 404, not 403, so their existence does not leak.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import Admin, Caller, Operator, ReadSession, Sessions
from api.idempotency import Idempotent
from api.pagination import Page, PageParams, make_page, page_params
from api.problems import problem_responses
from domain.errors import NotFound
from domain.identity.roles import Role, Scope
from services.audit import AuditEvent
from services.db import run_in_transaction
from services.identity import service as identity
from services.identity.service import Principal
from services.identity.tables import Organisation

router = APIRouter(prefix="/v1", tags=["identity"])
Pages = Annotated[PageParams, Depends(page_params)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Me(BaseModel):
    organisation_id: uuid.UUID
    organisation_name: str
    role: Role
    user_id: uuid.UUID | None
    api_key_id: uuid.UUID | None
    scopes: list[Scope]


class OrganisationCreate(Strict):
    name: str = Field(min_length=1, max_length=200, examples=["南江县林业合作社 Nanjiang Forest Cooperative"])
    role: Role = Field(examples=[Role.PROJECT_OWNER])


class OrganisationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    role: Role
    created_at: datetime


class UserCreate(Strict):
    username: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$", examples=["owner@nanjiang"])
    password: str = Field(min_length=10, max_length=256, examples=["correct-horse-battery"])
    display_name: str | None = Field(default=None, max_length=200, examples=["Li Wei"])


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    organisation_id: uuid.UUID
    username: str
    display_name: str
    is_active: bool
    created_at: datetime


class ApiKeyCreate(Strict):
    name: str = Field(min_length=1, max_length=100, examples=["settlement robot"])
    scopes: list[Scope] | None = Field(default=None, description="defaults to every scope of the role")


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    organisation_id: uuid.UUID
    name: str
    client_id: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    client_secret: str = Field(description="shown once; store it now")
    api_key: str = Field(description="client_id.client_secret, usable directly as a bearer token; shown once")


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    occurred_at: datetime
    user_id: uuid.UUID | None
    api_key_id: uuid.UUID | None
    action: str
    subject_type: str
    subject_id: str
    detail: dict[str, object]
    request_id: str | None


def _visible(principal: Principal, organisation_id: uuid.UUID) -> None:
    if principal.role is not Role.OPERATOR and principal.organisation_id != organisation_id:
        raise NotFound("no such organisation", code="organisation_not_found")


OrganisationId = Annotated[uuid.UUID, Path(description="organisation id")]


@router.get("/me", summary="The caller: organisation, role, user or API key, scopes")
async def me(principal: Caller, session: ReadSession) -> Me:
    organisation = await identity.get_organisation(session, principal.organisation_id)
    return Me(
        organisation_id=organisation.id,
        organisation_name=organisation.name,
        role=principal.role,
        user_id=principal.user_id,
        api_key_id=principal.api_key_id,
        scopes=sorted(principal.scopes),
    )


@router.get("/organisations", summary="Organisations the caller may see", responses=problem_responses(400, 401))
async def list_organisations(principal: Caller, session: ReadSession, page: Pages) -> Page[OrganisationRead]:
    query = select(Organisation).order_by(Organisation.created_at, Organisation.id).limit(page.limit + 1)
    if principal.role is not Role.OPERATOR:
        query = query.where(Organisation.id == principal.organisation_id)
    after = page.after_as(datetime.fromisoformat, uuid.UUID)
    if after:
        query = query.where(tuple_(Organisation.created_at, Organisation.id) > after)
    rows = [OrganisationRead.model_validate(row) for row in (await session.execute(query)).scalars()]
    return make_page(rows, page.limit, lambda item: (item.created_at.isoformat(), str(item.id)))


@router.post(
    "/organisations",
    status_code=201,
    summary="Register an organisation (operator)",
    responses=problem_responses(400, 401, 403, 409, 422),
)
async def create_organisation(body: OrganisationCreate, principal: Operator, idem: Idempotent) -> OrganisationRead:
    async def effect(session: AsyncSession) -> OrganisationRead:
        organisation = await identity.create_organisation(
            session, name=body.name, role=body.role, actor=principal.actor
        )
        return OrganisationRead.model_validate(organisation)

    return await idem.run(effect, status_code=201)


@router.get("/organisations/{organisation_id}", summary="One organisation", responses=problem_responses(401, 404))
async def get_organisation(
    organisation_id: OrganisationId, principal: Caller, session: ReadSession
) -> OrganisationRead:
    _visible(principal, organisation_id)
    return OrganisationRead.model_validate(await identity.get_organisation(session, organisation_id))


@router.get(
    "/organisations/{organisation_id}/users",
    summary="Users of an organisation",
    responses=problem_responses(401, 403, 404),
)
async def list_users(organisation_id: OrganisationId, principal: Admin, session: ReadSession) -> list[UserRead]:
    _visible(principal, organisation_id)
    await identity.get_organisation(session, organisation_id)
    return [UserRead.model_validate(user) for user in await identity.list_users(session, organisation_id)]


@router.post(
    "/organisations/{organisation_id}/users",
    status_code=201,
    summary="Add a user to an organisation (its admin, or the operator)",
    responses=problem_responses(400, 401, 403, 404, 409, 422),
)
async def create_user(
    organisation_id: OrganisationId, body: UserCreate, principal: Admin, idem: Idempotent
) -> UserRead:
    _visible(principal, organisation_id)

    async def effect(session: AsyncSession) -> UserRead:
        user = await identity.create_user(
            session,
            organisation_id=organisation_id,
            username=body.username,
            password=body.password,
            display_name=body.display_name,
            actor=principal.actor,
        )
        return UserRead.model_validate(user)

    return await idem.run(effect, status_code=201)


@router.get("/api-keys", summary="Your organisation's API keys", responses=problem_responses(401, 403))
async def list_api_keys(principal: Admin, session: ReadSession) -> list[ApiKeyRead]:
    keys = await identity.list_api_keys(session, principal.organisation_id)
    return [ApiKeyRead.model_validate(key) for key in keys]


@router.post(
    "/api-keys",
    status_code=201,
    summary="Create an API key for a machine client; the secret is shown once",
    responses=problem_responses(400, 401, 403, 422),
)
async def create_api_key(body: ApiKeyCreate, principal: Admin, sessions: Sessions) -> ApiKeyCreated:
    # Not idempotent by design: a stored replay would keep the secret, which must exist only once, here.
    async def effect(session: AsyncSession) -> ApiKeyCreated:
        issued = await identity.create_api_key(
            session,
            organisation_id=principal.organisation_id,
            name=body.name,
            scopes=frozenset(s.value for s in body.scopes) if body.scopes is not None else None,
            actor=principal.actor,
        )
        await session.refresh(issued.record)
        read = ApiKeyRead.model_validate(issued.record)
        return ApiKeyCreated(**read.model_dump(), client_secret=issued.secret, api_key=issued.token)

    return await run_in_transaction(sessions, effect)


@router.delete("/api-keys/{api_key_id}", summary="Revoke an API key", responses=problem_responses(401, 403, 404))
async def revoke_api_key(api_key_id: uuid.UUID, principal: Admin, sessions: Sessions) -> ApiKeyRead:
    async def effect(session: AsyncSession) -> ApiKeyRead:
        api_key = await identity.revoke_api_key(session, api_key_id=api_key_id, principal=principal)
        await session.flush()
        return ApiKeyRead.model_validate(api_key)

    return await run_in_transaction(sessions, effect)


@router.get(
    "/audit-events",
    summary="Your organisation's audit trail, newest first",
    responses=problem_responses(400, 401, 403),
)
async def list_audit_events(principal: Admin, session: ReadSession, page: Pages) -> Page[AuditEventRead]:
    query = (
        select(AuditEvent)
        .where(AuditEvent.organisation_id == principal.organisation_id)
        .order_by(AuditEvent.id.desc())
        .limit(page.limit + 1)
    )
    after = page.after_as(int)
    if after:
        query = query.where(AuditEvent.id < after[0])
    rows = [AuditEventRead.model_validate(row) for row in (await session.execute(query)).scalars()]
    return make_page(rows, page.limit, lambda item: (item.id,))
