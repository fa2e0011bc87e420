"""The ledger's HTTP routes: operator writes, owner reads, problem codes, idempotent replay, isolation."""

from __future__ import annotations

import uuid

import httpx

from domain.identity.roles import Role
from tests.conftest import MemberFactory


async def _setup(client: httpx.AsyncClient, make_member: MemberFactory) -> dict[str, object]:
    operator = await make_member(Role.OPERATOR)
    alpha = await make_member(Role.ENTERPRISE)
    beta = await make_member(Role.ENTERPRISE)
    asset = await client.post(
        "/v1/ledger/assets",
        json={"code": "CNY", "kind": "currency", "name": "Renminbi", "unit": "fen", "scale": 2},
        headers=operator.headers,
    )
    assert asset.status_code == 201, asset.text
    asset_id = asset.json()["id"]

    async def account(owner: uuid.UUID | None, purpose: str) -> int:
        response = await client.post(
            "/v1/ledger/accounts",
            json={"asset_id": asset_id, "owner_id": str(owner) if owner else None, "purpose": purpose},
            headers=operator.headers,
        )
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    return {
        "operator": operator,
        "alpha": alpha,
        "beta": beta,
        "asset": asset_id,
        "source": await account(None, "issuance"),
        "a": await account(alpha.organisation_id, "available"),
        "b": await account(beta.organisation_id, "available"),
    }


async def test_post_read_and_statement(client: httpx.AsyncClient, make_member: MemberFactory) -> None:
    world = await _setup(client, make_member)
    operator, alpha, beta = world["operator"], world["alpha"], world["beta"]
    deposit = {
        "id": str(uuid.uuid4()),
        "debit_account_id": world["source"],
        "credit_account_id": world["a"],
        "amount": 5000,
        "code": "deposit",
        "reference": "bank slip 1",
    }
    created = await client.post("/v1/ledger/transfers", json=deposit, headers=operator.headers)  # type: ignore[attr-defined]
    assert created.status_code == 201, created.text
    assert created.json()["result"] == "ok"
    assert created.json()["amount"] == 5000
    # the same transfer again (no Idempotency-Key): the ledger answers `exists`, nothing moves twice
    again = await client.post("/v1/ledger/transfers", json=deposit, headers=operator.headers)  # type: ignore[attr-defined]
    assert again.status_code == 201
    assert again.json()["result"] == "exists"
    changed = {**deposit, "amount": 5001}
    conflict = await client.post("/v1/ledger/transfers", json=changed, headers=operator.headers)  # type: ignore[attr-defined]
    assert conflict.status_code == 409
    assert conflict.headers["content-type"].startswith("application/problem+json")
    assert conflict.json()["code"] == "exists_with_different_amount"
    for n in range(3):
        trade = {
            "id": str(uuid.uuid4()),
            "debit_account_id": world["a"],
            "credit_account_id": world["b"],
            "amount": 100 + n,
            "code": "trade",
        }
        response = await client.post("/v1/ledger/transfers", json=trade, headers=operator.headers)  # type: ignore[attr-defined]
        assert response.status_code == 201
    balance = await client.get(f"/v1/ledger/accounts/{world['a']}", headers=alpha.headers)  # type: ignore[attr-defined]
    assert balance.status_code == 200
    assert balance.json()["balance"] == 5000 - 303
    page = await client.get(f"/v1/ledger/accounts/{world['a']}/transfers?limit=2", headers=alpha.headers)  # type: ignore[attr-defined]
    assert [item["amount"] for item in page.json()["items"]] == [102, 101]
    rest = await client.get(
        f"/v1/ledger/accounts/{world['a']}/transfers?limit=2&cursor={page.json()['next_cursor']}",
        headers=alpha.headers,  # type: ignore[attr-defined]
    )
    assert [item["amount"] for item in rest.json()["items"]] == [100, 5000]
    assert rest.json()["next_cursor"] is None
    # another organisation sees neither the account, its statement nor its transfers
    for path in (
        f"/v1/ledger/accounts/{world['a']}",
        f"/v1/ledger/accounts/{world['a']}/transfers",
        f"/v1/ledger/transfers/{deposit['id']}",
    ):
        hidden = await client.get(path, headers=beta.headers)  # type: ignore[attr-defined]
        assert hidden.status_code == 404, path
    own = await client.get("/v1/ledger/accounts", headers=beta.headers)  # type: ignore[attr-defined]
    assert [item["id"] for item in own.json()["items"]] == [world["b"]]
    everything = await client.get("/v1/ledger/accounts", headers=operator.headers)  # type: ignore[attr-defined]
    assert len(everything.json()["items"]) == 3


async def test_refusals_and_linked_batches(client: httpx.AsyncClient, make_member: MemberFactory) -> None:
    world = await _setup(client, make_member)
    operator, alpha = world["operator"], world["alpha"]
    headers = operator.headers  # type: ignore[attr-defined]
    overdraw = {
        "id": str(uuid.uuid4()),
        "debit_account_id": world["a"],
        "credit_account_id": world["b"],
        "amount": 1,
        "code": "trade",
    }
    refused = await client.post("/v1/ledger/transfers", json=overdraw, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["code"] == "exceeds_credits"
    assert refused.json()["transfer_id"] == overdraw["id"]
    # only the operator may post
    forbidden = await client.post("/v1/ledger/transfers", json=overdraw, headers=alpha.headers)  # type: ignore[attr-defined]
    assert forbidden.status_code == 403
    batch = [
        {
            "id": str(uuid.uuid4()),
            "debit_account_id": world["source"],
            "credit_account_id": world["a"],
            "amount": 100,
            "code": "deposit",
        },
        {
            "id": str(uuid.uuid4()),
            "debit_account_id": world["a"],
            "credit_account_id": world["b"],
            "amount": 150,
            "code": "trade",
        },
    ]
    failed = await client.post("/v1/ledger/transfers/linked", json={"transfers": batch}, headers=headers)
    assert failed.status_code == 422
    assert failed.json()["code"] == "exceeds_credits"
    assert failed.json()["index"] == 1
    batch[1]["amount"] = 60
    key = {"Idempotency-Key": "linked-1"}
    posted = await client.post("/v1/ledger/transfers/linked", json={"transfers": batch}, headers=headers | key)
    assert posted.status_code == 201, posted.text
    assert [item["result"] for item in posted.json()["transfers"]] == ["ok", "ok"]
    assert [item["linked"] for item in posted.json()["transfers"]] == [True, False]
    replay = await client.post("/v1/ledger/transfers/linked", json={"transfers": batch}, headers=headers | key)
    assert replay.status_code == 201
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json() == posted.json()
    balance = await client.get(f"/v1/ledger/accounts/{world['a']}", headers=headers)
    assert balance.json()["balance"] == 40
    invalid = await client.post("/v1/ledger/transfers", json={**overdraw, "amount": 0}, headers=headers)
    assert invalid.status_code == 422
    assert invalid.json()["code"] == "validation_error"


async def test_two_phase_and_serials_over_http(client: httpx.AsyncClient, make_member: MemberFactory) -> None:
    operator = await make_member(Role.OPERATOR)
    owner = await make_member(Role.PROJECT_OWNER)
    other = await make_member(Role.ENTERPRISE)
    headers = operator.headers
    asset = await client.post(
        "/v1/ledger/assets",
        json={"code": "BSC-P1-2025", "kind": "credit_batch", "name": "Project 1 vintage 2025", "unit": "tCO2e"},
        headers=headers,
    )
    asset_id = asset.json()["id"]
    accounts = {}
    for name, owner_id, purpose in (
        ("source", None, "issuance"),
        ("owner", owner.organisation_id, "available"),
        ("other", other.organisation_id, "available"),
    ):
        body = {"asset_id": asset_id, "owner_id": str(owner_id) if owner_id else None, "purpose": purpose}
        accounts[name] = (await client.post("/v1/ledger/accounts", json=body, headers=headers)).json()["id"]
    issue = {
        "id": str(uuid.uuid4()),
        "debit_account_id": accounts["source"],
        "credit_account_id": accounts["owner"],
        "amount": 1000,
        "code": "issue",
    }
    assert (await client.post("/v1/ledger/transfers", json=issue, headers=headers)).status_code == 201
    hold = {
        "id": str(uuid.uuid4()),
        "debit_account_id": accounts["owner"],
        "credit_account_id": accounts["other"],
        "amount": 300,
        "code": "trade",
        "pending": True,
        "timeout_seconds": 600,
    }
    assert (await client.post("/v1/ledger/transfers", json=hold, headers=headers)).json()["expires_at"] is not None
    settle = {"id": str(uuid.uuid4()), "post_pending": True, "pending_id": hold["id"], "amount": 250, "code": "trade"}
    settled = await client.post("/v1/ledger/transfers", json=settle, headers=headers)
    assert settled.status_code == 201, settled.text
    assert settled.json()["debit_account_id"] == accounts["owner"]
    twice = {**settle, "id": str(uuid.uuid4())}
    again = await client.post("/v1/ledger/transfers", json=twice, headers=headers)
    assert again.json()["code"] == "pending_already_posted"
    serial = await client.get("/v1/ledger/serials/BSC-P1-2025/100", headers=other.headers)
    assert serial.status_code == 200, serial.text
    assert serial.json()["holder_account_id"] == accounts["other"]
    assert [move["to_account_id"] for move in serial.json()["history"]] == [accounts["owner"], accounts["other"]]
    assert (await client.get("/v1/ledger/serials/BSC-P1-2025/900", headers=other.headers)).status_code == 404
    assert (await client.get("/v1/ledger/serials/BSC-P1-2025/900", headers=owner.headers)).json()["range_first"] == 251


async def test_asset_and_account_refusals(client: httpx.AsyncClient, make_member: MemberFactory) -> None:
    operator = await make_member(Role.OPERATOR)
    body = {"code": "GLD", "kind": "product_lot", "name": "Gold tea lot", "unit": "g"}
    assert (await client.post("/v1/ledger/assets", json=body, headers=operator.headers)).status_code == 201
    same = await client.post("/v1/ledger/assets", json=body, headers=operator.headers)
    assert same.status_code == 201
    other = await client.post("/v1/ledger/assets", json={**body, "unit": "kg"}, headers=operator.headers)
    assert other.status_code == 409
    assert other.json()["code"] == "asset_exists_with_different_fields"
    ghost = {"asset_id": same.json()["id"], "owner_id": str(uuid.uuid4()), "purpose": "available"}
    missing = await client.post("/v1/ledger/accounts", json=ghost, headers=operator.headers)
    assert missing.status_code == 404
    assert missing.json()["code"] == "organisation_not_found"
    no_asset = await client.post(
        "/v1/ledger/accounts", json={"asset_id": 999_999, "purpose": "available"}, headers=operator.headers
    )
    assert no_asset.status_code == 404
    assert no_asset.json()["code"] == "asset_not_found"
