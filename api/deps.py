"""Dependencies every router reuses: state, sessions, the caller and the scopes a route needs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import OAuth2PasswordBearer, SecurityScopes
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.state import AppState
from domain.errors import AuthenticationFailed, Forbidden
from domain.identity.roles import Scope
from services.identity import service as identity
from services.identity.service import Principal

SCOPE_DESCRIPTIONS = {
    Scope.PROFILE.value: "read your own identity",
    Scope.ORGANISATION_ADMIN.value: "manage your organisation's users and API keys",
    Scope.ACCOUNTS_READ.value: "read your organisation's accounts and statements",
    Scope.LEDGER_WRITE.value: "post ledger transfers (operator)",
    Scope.REGISTRY_OPERATE.value: "operate the registry (operator)",
    Scope.PROJECTS_WRITE.value: "register projects and file monitoring reports",
    Scope.VERIFICATION_WRITE.value: "validate projects and verify monitoring reports",
    Scope.CREDITS_MANAGE.value: "transfer and retire credits",
    Scope.MARKET_TRADE.value: "place and cancel orders",
    Scope.PLEDGES_MANAGE.value: "register and manage carbon pledges",
    Scope.LABELS_CERTIFY.value: "certify producers and issue label codes",
    Scope.LABELS_PRODUCE.value: "apply for eco-label certification",
}

oauth2 = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", scopes=SCOPE_DESCRIPTIONS, auto_error=False)


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.bashan
    return state


State = Annotated[AppState, Depends(get_state)]


def get_sessions(state: State) -> async_sessionmaker[AsyncSession]:
    return state.sessions


Sessions = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessions)]


async def read_session(state: State) -> AsyncIterator[AsyncSession]:
    """A session for reads; it never commits."""
    async with state.sessions() as session:
        yield session


ReadSession = Annotated[AsyncSession, Depends(read_session)]


async def current_principal(
    security_scopes: SecurityScopes, state: State, token: Annotated[str | None, Depends(oauth2)]
) -> Principal:
    if not token:
        raise AuthenticationFailed("this route needs a bearer token", code="unauthenticated")
    api_key = identity.split_api_key(token)
    if api_key is not None:
        async with state.sessions() as session, session.begin():
            principal = await identity.authenticate_api_key(session, *api_key)
            # Inside the transaction: a key refused for its scopes has not been used, and its last use stays.
            _check_scopes(principal, security_scopes)
        return principal
    principal = identity.decode_access_token(token, secret_key=state.secret_key)
    if principal.api_key_id is not None:
        async with state.sessions() as session:
            if not await identity.api_key_is_live(session, principal.api_key_id):
                raise AuthenticationFailed("the API key of this token was revoked", code="invalid_token")
    _check_scopes(principal, security_scopes)
    return principal


def _check_scopes(principal: Principal, security_scopes: SecurityScopes) -> None:
    missing = sorted(set(security_scopes.scopes) - {scope.value for scope in principal.scopes})
    if missing:
        raise Forbidden(f"this route needs scope(s): {', '.join(missing)}", code="insufficient_scope", required=missing)


def requires(*scopes: Scope) -> object:
    return Security(current_principal, scopes=[scope.value for scope in scopes])


Caller = Annotated[Principal, requires(Scope.PROFILE)]
Admin = Annotated[Principal, requires(Scope.ORGANISATION_ADMIN)]
Operator = Annotated[Principal, requires(Scope.REGISTRY_OPERATE)]
