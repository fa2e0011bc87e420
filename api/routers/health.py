"""Liveness, readiness and metrics."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from api.deps import State
from api.problems import MEDIA_TYPE, PROBLEM_BASE
from services.health import readiness

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    checks: dict[str, str]


@router.get("/healthz", summary="The process is alive")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="The database (migrated to head) and Redis answer",
    responses={503: {"description": "not ready, with reasons", "content": {MEDIA_TYPE: {}}}},
)
async def readyz(state: State) -> Response:
    checks = await readiness(state.engine, state.redis)
    failures = {name: reason for name, reason in checks.items() if reason}
    if failures:
        return JSONResponse(
            {
                "type": PROBLEM_BASE + "not_ready",
                "title": "Service Unavailable",
                "status": 503,
                "detail": "; ".join(failures.values()),
                "instance": "/readyz",
                "code": "not_ready",
                "checks": {name: reason or "ok" for name, reason in checks.items()},
            },
            status_code=503,
            media_type=MEDIA_TYPE,
            headers={"Retry-After": "5"},
        )
    return JSONResponse(Readiness(status="ready", checks=dict.fromkeys(checks, "ok")).model_dump())


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(state: State) -> Response:
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
