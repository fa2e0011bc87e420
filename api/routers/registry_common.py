"""What every registry router shares: the caller aliases by scope, path parameters and documented problems."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path

from api.deps import requires
from api.pagination import PageParams, page_params
from api.problems import problem_responses
from domain.identity.roles import Scope
from services.identity.service import Principal

Pages = Annotated[PageParams, Depends(page_params)]
Owner = Annotated[Principal, requires(Scope.PROJECTS_WRITE)]
Verifier = Annotated[Principal, requires(Scope.VERIFICATION_WRITE)]
Operator = Annotated[Principal, requires(Scope.REGISTRY_OPERATE)]
Holder = Annotated[Principal, requires(Scope.CREDITS_MANAGE)]
ProjectId = Annotated[uuid.UUID, Path(description="project id")]
ParcelId = Annotated[uuid.UUID, Path(description="parcel id")]
ReportId = Annotated[uuid.UUID, Path(description="monitoring report id")]
MethodologyCode = Annotated[str, Path(pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$", max_length=40)]
MethodologyVersion = Annotated[int, Path(ge=1, le=1_000_000)]
WRITE_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 422)
PREFIX = "/v1/registry"
