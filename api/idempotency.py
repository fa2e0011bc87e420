"""The ``Idempotency-Key`` dependency for mutating routes.

A route takes ``idem: Idempotent`` and returns ``await idem.run(effect, status_code=201)``, where ``effect`` is
an async function of the transaction's session returning a pydantic model. Without the header the effect simply
runs once in a transaction; with it, the effect runs at most once per key and caller (see services.idempotency).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar, cast

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import Caller, State
from api.state import AppState
from domain.errors import RuleViolation
from services import idempotency
from services.identity.service import Principal

M = TypeVar("M", bound=BaseModel)
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}\Z")


class Idempotency:
    def __init__(self, state: AppState, request: idempotency.IdempotentRequest) -> None:
        self._state = state
        self.request = request

    async def run(self, effect: Callable[[AsyncSession], Awaitable[M]], *, status_code: int = 200) -> M:
        """Run ``effect`` once per key and answer with its model, or with the answer stored under the key.

        The value is a ready ``JSONResponse`` (FastAPI sends a returned response as it is). It is typed as the
        effect's model so that routes keep their model as return type, and with it their OpenAPI response schema.
        """

        async def as_json(session: AsyncSession) -> object:
            return (await effect(session)).model_dump(mode="json")

        stored = await idempotency.execute(self._state.sessions, self.request, as_json, status_code=status_code)
        response = JSONResponse(stored.body, status_code=stored.status_code)
        if self.request.key is not None:
            response.headers["Idempotency-Key"] = self.request.key
        if stored.replayed:
            response.headers["Idempotent-Replayed"] = "true"
        return cast(M, response)


async def idempotency_dependency(
    request: Request,
    state: State,
    principal: Caller,
    idempotency_key: Annotated[
        str | None,
        Header(
            description="Makes the call safe to retry: the same key and body return the first answer; "
            "the same key with another body is refused (422).",
            examples=["5f0c7b1e-order-42"],
        ),
    ] = None,
) -> Idempotency:
    if idempotency_key is not None and not _VALID_KEY.match(idempotency_key):
        raise RuleViolation("Idempotency-Key must be 1-255 visible ASCII characters", code="invalid_idempotency_key")
    body = await request.body()
    return Idempotency(
        state,
        idempotency.IdempotentRequest(
            principal=_principal_key(principal),
            key=idempotency_key,
            method=request.method,
            path=request.url.path,
            request_hash=idempotency.request_fingerprint(request.method, request.url.path, body),
        ),
    )


def _principal_key(principal: Principal) -> str:
    # Keys are scoped to the organisation, so two clients of one organisation share them (as with one account).
    return f"org:{principal.organisation_id}"


Idempotent = Annotated[Idempotency, Depends(idempotency_dependency)]
