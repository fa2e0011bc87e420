"""OAuth2 token endpoint: password grant for people, client-credentials grant for API keys."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, Field

from api.deps import State
from api.problems import problem_responses
from api.ratelimit import client_address, hit
from domain.errors import AuthenticationFailed, RuleViolation
from services.identity import service as identity

router = APIRouter(prefix="/v1/auth", tags=["auth"])
TOKEN_PATH = "/v1/auth/token"


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds until the token expires", examples=[900])
    scope: str = Field(description="space-separated scopes the token holds", examples=["profile accounts:read"])


@router.post(
    "/token",
    summary="Obtain a bearer token (OAuth2 password or client_credentials grant)",
    responses=problem_responses(400, 401, 415, 422, 429),
)
async def token(
    request: Request,
    state: State,
    grant_type: Annotated[Literal["password", "client_credentials"], Form(examples=["password"])],
    username: Annotated[str | None, Form(max_length=64, examples=["owner@nanjiang"])] = None,
    password: Annotated[str | None, Form(max_length=256)] = None,
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=256)] = None,
    scope: Annotated[str, Form(max_length=1024, description="space-separated; empty for all of the role's")] = "",
) -> Token:
    settings = state.settings
    requested = frozenset(scope.split()) or None
    address = client_address(request)
    if grant_type == "password":
        if not username or password is None:
            raise RuleViolation("the password grant needs username and password", code="invalid_request")
        # Limited per address and per username, so neither one client nor a spread of clients can guess freely.
        await hit(request, "login-ip", address, settings.login_rate_per_minute)
        await hit(request, "login-user", username.lower(), settings.login_rate_per_minute)
        async with state.sessions() as session:
            principal = await identity.authenticate_password(session, username, password, requested)
    else:
        if not client_id or not client_secret:
            raise RuleViolation(
                "the client_credentials grant needs client_id and client_secret", code="invalid_request"
            )
        await hit(request, "login-ip", address, settings.login_rate_per_minute * 10)
        async with state.sessions() as session, session.begin():
            principal = await identity.authenticate_api_key(session, client_id, client_secret, requested)
    if not principal.scopes:
        raise AuthenticationFailed("no scopes granted", code="invalid_scope")
    access_token, expires_in = identity.issue_access_token(
        principal, secret_key=state.secret_key, minutes=settings.access_token_minutes
    )
    return Token(
        access_token=access_token,
        expires_in=expires_in,
        scope=" ".join(sorted(s.value for s in principal.scopes)),
    )


def form_paths() -> frozenset[str]:
    return frozenset({TOKEN_PATH})
