"""Every route of the application, enumerated from its OpenAPI document, with hostile path and query values: integers
past a bigint, NUL, text that is not a UUID, a cursor from nowhere. No answer may be a 5xx, and every refusal is
problem+json. Three fuzzing passes (session 7) found 500s of exactly these kinds; a new route is swept as it lands.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
from fastapi import FastAPI

from domain.identity.roles import Role
from tests.conftest import MemberFactory

# One hostile value per JSON-schema type of a parameter; a string gets several.
HOSTILE: dict[str, list[str]] = {
    "integer": [str(2**63), str(-(2**63) - 1), str(10**30), "1e3", "\x00"],
    "number": ["1e400", "NaN", "\x00"],
    "string": ["\x00", "x\x00y", "9" * 300],
    "boolean": ["maybe", "\x00"],
}
CURSORS = [[2**63], ["\x00"], [5, 5], ["9999-12-31T23:59:59-14:00", "x"], [[1]], [{"a": 1}], [1e308]]


def _schema_type(parameter: dict[str, Any]) -> str:
    schema = parameter.get("schema", {})
    for option in [schema, *schema.get("anyOf", [])]:
        if option.get("type") in HOSTILE:
            return str(option["type"])
    return "string"


def _cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _requests(app: FastAPI) -> list[tuple[str, str, dict[str, str]]]:
    """(method, path, query) for every operation: each path parameter in turn hostile (the others plausible), then
    each query parameter in turn hostile."""
    sent = []
    for template, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            parameters = operation.get("parameters", [])
            plausible = {
                p["name"]: "1" if _schema_type(p) == "integer" else "x" for p in parameters if p["in"] == "path"
            }
            for parameter in parameters:
                values = HOSTILE[_schema_type(parameter)]
                if parameter["name"] == "cursor":
                    values = [_cursor(cursor) for cursor in CURSORS]
                elif parameter["in"] == "path":
                    values = [*values, "\ud800"]  # a lone surrogate, sent as its CESU-8 bytes
                for value in values:
                    if parameter["in"] == "path":
                        path = template.format(**(plausible | {parameter["name"]: _quote(value)}))
                        sent.append((method.upper(), path, {}))
                    elif parameter["in"] == "query":
                        sent.append((method.upper(), template.format(**plausible), {parameter["name"]: value}))
    return sent


def _quote(value: str) -> str:
    return "".join(
        char if char.isalnum() or char in "-._" else "".join(f"%{b:02X}" for b in char.encode("utf-8", "surrogatepass"))
        for char in value
    )


async def test_hostile_path_and_query_values_never_answer_5xx(
    app: FastAPI, client: httpx.AsyncClient, make_member: MemberFactory
) -> None:
    operator = await make_member(Role.OPERATOR)
    requests = _requests(app)
    assert len(requests) > 200  # the sweep found the routes and their parameters
    failures = []
    for headers in ({}, operator.headers):
        for method, path, query in requests:
            response = await client.request(method, path, params=query, headers=headers)
            if response.status_code >= 500:
                failures.append((method, path, query, response.status_code, response.text[:200]))
            elif response.status_code >= 400:
                assert response.headers["content-type"] == "application/problem+json", (method, path, query)
    assert failures == []
