"""RFC 9457 problem details: every error the API returns, in one place.

Domain errors carry a stable ``code``; ``STATUS_BY_CODE`` maps codes (and then error classes) to HTTP statuses.
The problem ``type`` is ``https://bashan.exchange/problems/<code>`` so clients can switch on it.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import AuthenticationFailed, Conflict, DomainError, Forbidden, InvalidState, NotFound

PROBLEM_BASE = "https://bashan.exchange/problems/"
MEDIA_TYPE = "application/problem+json"

# Codes whose status differs from their class's default.
STATUS_BY_CODE: dict[str, int] = {
    "invalid_scope": 400,
    "invalid_request": 400,
    "idempotency_key_reused": 422,
    "idempotency_in_progress": 409,
    "invalid_idempotency_key": 400,
    "invalid_cursor": 400,
    "rate_limited": 429,
    "insufficient_scope": 403,
}
STATUS_BY_CLASS: list[tuple[type[DomainError], int]] = [
    (AuthenticationFailed, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (InvalidState, 409),
    (DomainError, 422),
]


class FieldError(BaseModel):
    field: str = Field(examples=["body.name"])
    message: str = Field(examples=["Field required"])
    type: str = Field(examples=["missing"])


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=[PROBLEM_BASE + "validation_error"])
    title: str = Field(examples=["Unprocessable Content"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["body.name: Field required"])
    instance: str = Field(examples=["/v1/organisations"])
    code: str = Field(examples=["validation_error"])
    errors: list[FieldError] | None = None


def problem_response(
    request: Request,
    status: int,
    code: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
    }
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    body.update({key: value for key, value in extra.items() if value is not None})
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def status_of(error: DomainError) -> int:
    if error.code in STATUS_BY_CODE:
        return STATUS_BY_CODE[error.code]
    for cls, status in STATUS_BY_CLASS:
        if isinstance(error, cls):
            return status
    return 422


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "content_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "unavailable",
}


async def _domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    status = status_of(error)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = f'Bearer realm="bashan", error="{error.code}"'
    if status == 429 and "retry_after" in error.context:
        headers["Retry-After"] = str(error.context["retry_after"])
    context = {key: value for key, value in error.context.items() if isinstance(value, str | int | bool | list)}
    return problem_response(request, status, error.code, error.detail, headers=headers, **context)


def _field_name(location: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in location)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = error.errors()
    if any(item.get("type") == "json_invalid" for item in errors):
        position = next(item for item in errors if item.get("type") == "json_invalid")
        reason = (position.get("ctx") or {}).get("error", "invalid JSON")
        return problem_response(request, 400, "malformed_json", f"the body is not valid JSON: {reason}")
    fields = [
        {
            "field": _field_name(item.get("loc", ())),
            "message": item.get("msg", ""),
            "type": item.get("type", ""),
        }
        for item in errors
    ]
    detail = "; ".join(f"{item['field']}: {item['message']}" for item in fields[:5])
    return problem_response(request, 422, "validation_error", detail, errors=fields)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = _HTTP_CODES.get(error.status_code, f"http_{error.status_code}")
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).description
    if error.status_code == 404 and detail == "Not Found":
        detail = f"no route matches {request.method} {request.url.path}"
    if error.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    headers = dict(error.headers) if error.headers else None
    return problem_response(request, error.status_code, code, detail, headers=headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: the problem statuses it can answer, documented in OpenAPI."""
    return {
        status: {"model": Problem, "content": {MEDIA_TYPE: {}}, "description": HTTPStatus(status).phrase}
        for status in statuses
    }
