"""Input that reached the database and answered 500 (found by fuzzing the API): every case is a 4xx problem now,
and the refused request changes nothing."""

from __future__ import annotations

import base64
import json
import uuid

import httpx
import pytest

from domain.identity.roles import Role
from tests.api.test_problems import assert_problem
from tests.conftest import MemberFactory

BIGINT_PAST = 2**63
INTEGER_PAST = 2**31


def cursor(values: list[object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


async def _organisation_names(client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    response = await client.get("/v1/organisations", params={"limit": 200}, headers=headers)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/public/retirements/%00", {}),
        ("/v1/public/retirements/BSR%00/certificate.pdf", {}),
        ("/v1/public/methodologies/CCER%00/1", {}),
        ("/v1/public/inventory/carbon-stock", {"methodology": "x\x00"}),
        ("/v1/public/projects", {"status": "\x00"}),
    ],
)
async def test_nul_in_the_path_or_query_is_refused_before_any_route(
    client: httpx.AsyncClient, path: str, params: dict[str, str]
) -> None:
    response = await client.get(path, params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "nul_character"


async def test_nul_in_a_json_body_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, make_member: MemberFactory
) -> None:
    operator = await make_member(Role.OPERATOR)
    before = await _organisation_names(client, operator.headers)
    for body in (
        '{"name": "Nanjiang tea\\u0000", "role": "enterprise"}',
        '{"name": "Nanjiang tea", "role": "enterprise", "\\u0000": 1}',
        '{"name": "odd \\\\\\u0000 run", "role": "enterprise"}',
    ):
        response = await client.post(
            "/v1/organisations", content=body, headers=operator.headers | {"Content-Type": "application/json"}
        )
        assert_problem(response, 422, "nul_character")
    assert await _organisation_names(client, operator.headers) == before


async def test_an_escaped_backslash_before_u0000_is_ordinary_text(
    client: httpx.AsyncClient, make_member: MemberFactory
) -> None:
    operator = await make_member(Role.OPERATOR)
    body = '{"name": "literal \\\\u0000 text", "role": "enterprise"}'
    response = await client.post(
        "/v1/organisations", content=body, headers=operator.headers | {"Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "literal \\u0000 text"


@pytest.mark.parametrize(
    "form",
    [
        {"grant_type": "password", "username": "a\x00", "password": "x"},
        {"grant_type": "client_credentials", "client_id": "bsk_\x00", "client_secret": "x"},
    ],
)
async def test_nul_in_the_token_form_is_refused(client: httpx.AsyncClient, form: dict[str, str]) -> None:
    assert_problem(await client.post("/v1/auth/token", data=form), 422, "nul_character")


@pytest.mark.parametrize(
    ("path", "values"),
    [
        ("/v1/public/retirements", [5, 5]),  # (timestamp, uuid) with numbers: uuid.UUID(5) raised AttributeError
        ("/v1/public/retirements", ["2026-01-01T00:00:00", str(uuid.uuid4())]),  # no offset
        ("/v1/public/retirements", ["9999-12-31T23:59:59.999999-14:00", str(uuid.uuid4())]),  # year 10000 in UTC
        ("/v1/public/issuances", ["0001-01-01T00:00:00+14:00", str(uuid.uuid4())]),  # year 0 in UTC
        ("/v1/public/issuances", ["2026-01-01T00:00:00+00:00", 5]),
        ("/v1/public/projects", ["\x00"]),
        ("/v1/public/projects", ["\ud800"]),  # a lone surrogate: not UTF-8
        ("/v1/public/methodologies", [INTEGER_PAST]),  # an integer column
        ("/v1/public/methodologies", [True]),
    ],
)
async def test_cursors_that_do_not_fit_their_columns_are_refused(
    client: httpx.AsyncClient, path: str, values: list[object]
) -> None:
    assert_problem(await client.get(path, params={"cursor": cursor(values)}), 400, "invalid_cursor")


async def test_ledger_ids_and_amounts_past_their_columns_are_refused(
    client: httpx.AsyncClient, make_member: MemberFactory
) -> None:
    operator = await make_member(Role.OPERATOR)
    headers = operator.headers
    for path in (
        f"/v1/ledger/accounts/{BIGINT_PAST}",
        f"/v1/ledger/accounts/{-BIGINT_PAST - 1}",
        f"/v1/ledger/accounts/{BIGINT_PAST}/transfers",
        f"/v1/ledger/serials/BSC-1/{2**64 + 5}",
    ):
        assert_problem(await client.get(path, headers=headers), 422, "validation_error")
    for values in ([BIGINT_PAST], [2**64 + 5]):
        response = await client.get("/v1/ledger/accounts", params={"cursor": cursor(values)}, headers=headers)
        assert_problem(response, 400, "invalid_cursor")
    opened = await client.post(
        "/v1/ledger/accounts", json={"asset_id": INTEGER_PAST, "purpose": "available"}, headers=headers
    )
    assert_problem(opened, 422, "validation_error")
    transfer = {"id": str(uuid.uuid4()), "debit_account_id": 1, "credit_account_id": 2, "amount": 5, "code": "trade"}
    for change in ({"amount": 2**64 + 5}, {"debit_account_id": BIGINT_PAST}, {"asset_id": INTEGER_PAST}):
        response = await client.post("/v1/ledger/transfers", json=transfer | change, headers=headers)
        assert_problem(response, 422, "validation_error")
        linked = await client.post(
            "/v1/ledger/transfers/linked", json={"transfers": [transfer | change]}, headers=headers
        )
        assert_problem(linked, 422, "validation_error")
    assert (await client.get(f"/v1/ledger/transfers/{transfer['id']}", headers=headers)).status_code == 404


async def test_an_account_cannot_limit_both_its_debits_and_its_credits(
    client: httpx.AsyncClient, make_member: MemberFactory
) -> None:
    operator = await make_member(Role.OPERATOR)
    asset = await client.post(
        "/v1/ledger/assets",
        json={"code": "CNY", "kind": "currency", "name": "Renminbi", "unit": "fen", "scale": 2},
        headers=operator.headers,
    )
    assert asset.status_code == 201, asset.text
    body = {
        "asset_id": asset.json()["id"],
        "purpose": "available",
        "debits_must_not_exceed_credits": True,
        "credits_must_not_exceed_debits": True,
    }
    response = await client.post("/v1/ledger/accounts", json=body, headers=operator.headers)
    assert_problem(response, 422, "account_flags_exclusive")
    listed = await client.get("/v1/ledger/accounts", headers=operator.headers)
    assert listed.json()["items"] == []


async def test_a_key_refused_for_its_scopes_is_not_marked_used(
    client: httpx.AsyncClient, make_member: MemberFactory
) -> None:
    member = await make_member(Role.BANK)
    created = await client.post("/v1/api-keys", json={"name": "narrow", "scopes": ["profile"]}, headers=member.headers)
    assert created.status_code == 201, created.text
    key = created.json()
    bearer = {"Authorization": f"Bearer {key['api_key']}"}
    assert_problem(await client.get("/v1/ledger/accounts", headers=bearer), 403, "insufficient_scope")
    listed = (await client.get("/v1/api-keys", headers=member.headers)).json()
    assert listed[0]["last_used_at"] is None
    assert (await client.get("/v1/me", headers=bearer)).status_code == 200
    listed = (await client.get("/v1/api-keys", headers=member.headers)).json()
    assert listed[0]["last_used_at"] is not None


async def test_json_in_utf16_is_told_to_be_utf8(client: httpx.AsyncClient, make_member: MemberFactory) -> None:
    operator = await make_member(Role.OPERATOR)
    body = '{"name": "Tongjiang honey", "role": "enterprise"}'.encode("utf-16")
    response = await client.post(
        "/v1/organisations", content=body, headers=operator.headers | {"Content-Type": "application/json"}
    )
    problem = assert_problem(response, 422, "nul_character")
    assert "UTF-8" in str(problem["detail"])
