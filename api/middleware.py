"""The outermost layer of every request: request id, body limits, content type, access log and metrics.

Written as plain ASGI (not BaseHTTPMiddleware) so it adds little to each request and never buffers responses.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import Metrics
from api.problems import MEDIA_TYPE
from services.context import reset_request_id, set_request_id

REQUEST_ID_HEADER = b"x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}\Z")
_BODY_METHODS = {"POST", "PUT", "PATCH"}
# PostgreSQL's text and jsonb cannot hold U+0000, so no input may carry it. In a JSON body it can only be the escape
# \u0000 whose backslash follows an even run of backslashes, none included (after an odd run it is escaped itself).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_NUL_DETAIL = "text may not contain the NUL character (U+0000)"
log = structlog.get_logger("bashan.access")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class RequestMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics, max_body_bytes: int, form_paths: frozenset[str]) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.form_paths = form_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        supplied = _header(scope, REQUEST_ID_HEADER)
        request_id = supplied if supplied and _VALID_REQUEST_ID.match(supplied) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = set_request_id(request_id)
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = 1
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != REQUEST_ID_HEADER]
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            refusal = await self._screen(scope, receive)
            if isinstance(refusal, tuple):
                status, code, detail, headers = refusal
                await _send_problem(send_with_id, scope, status, code, detail, request_id, headers)
            else:
                await self.app(scope, refusal, send_with_id)
        except Exception:
            # A bug: answer a problem with the request id (if nothing was sent yet) and log it once, here.
            log.exception("unhandled error", method=scope["method"], path=scope["path"])
            if not status_holder.get("started"):
                status_holder["status"] = 500
                await _send_problem(
                    send_with_id,
                    scope,
                    500,
                    "internal_error",
                    "an unexpected error occurred; it was logged",
                    request_id,
                    [],
                )
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            elapsed = time.perf_counter() - started
            self.metrics.observe(template, scope["method"], status_holder["status"], elapsed)
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                route=template,
                status=status_holder["status"],
                duration_ms=round(elapsed * 1000, 2),
            )
            reset_request_id(token)

    async def _screen(
        self, scope: Scope, receive: Receive
    ) -> Receive | tuple[int, str, str, list[tuple[bytes, bytes]]]:
        """Refuse oversized or non-JSON bodies, and NUL anywhere, before any route sees them; else a receive that
        replays the body."""
        if "\x00" in scope["path"] or _has_encoded_nul(scope.get("query_string", b"")):
            return 422, "nul_character", _NUL_DETAIL, []
        if scope["method"] not in _BODY_METHODS:
            return receive
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            return 413, "content_too_large", f"the body may not exceed {self.max_body_bytes} bytes", []
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return receive
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return 413, "content_too_large", f"the body may not exceed {self.max_body_bytes} bytes", []
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body:
            content_type = _header(scope, b"content-type") or ""
            allowed_form = scope["path"] in self.form_paths and content_type.lower().startswith(
                "application/x-www-form-urlencoded"
            )
            if not allowed_form and not _is_json(content_type):
                accepted = (
                    "application/x-www-form-urlencoded" if scope["path"] in self.form_paths else "application/json"
                )
                return (
                    415,
                    "unsupported_media_type",
                    f"send the body as {accepted}, not {content_type or 'an unlabelled body'}",
                    [(b"accept-post", accepted.encode())],
                )
            if allowed_form:
                if _has_encoded_nul(body):
                    return 422, "nul_character", _NUL_DETAIL, []
            elif _JSON_NUL.search(body):
                return 422, "nul_character", _NUL_DETAIL, []
            elif b"\x00" in body:  # a raw zero byte: UTF-16 or UTF-32 text, or a NUL
                return 422, "nul_character", "send JSON as UTF-8 text, without the NUL character (U+0000)", []
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay


def _has_encoded_nul(urlencoded: bytes) -> bool:
    """A query string or form body that decodes to a NUL: ``%00`` (a raw NUL byte too)."""
    return b"%00" in urlencoded or b"\x00" in urlencoded


async def _send_problem(
    send: Send,
    scope: Scope,
    status: int,
    code: str,
    detail: str,
    request_id: str,
    headers: list[tuple[bytes, bytes]],
) -> None:
    from http import HTTPStatus

    from api.problems import PROBLEM_BASE

    document: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": scope["path"],
        "code": code,
        "request_id": request_id,
    }
    payload = json.dumps(document).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", MEDIA_TYPE.encode()),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
