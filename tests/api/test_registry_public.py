"""The public registry reads: no login, rate-limited per client, and a verification page for people."""

from __future__ import annotations

import httpx
import pytest

from services.config import Settings
from tests.conftest import MemberFactory
from tests.integration.registry.builders import cast, issued_project, ok, post, seeded

__all__ = ["seeded"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"public_rate_per_minute": 5, "public_base_url": "https://registry.example.cn"})


async def test_public_reads_are_rate_limited_per_client(client: httpx.AsyncClient, seeded: None) -> None:
    statuses = [(await client.get("/v1/public/methodologies")).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    blocked = await client.get("/v1/public/projects")
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "rate_limited"
    assert int(blocked.headers["retry-after"]) >= 1


async def test_verification_page_for_browsers_and_json_for_programs(
    client: httpx.AsyncClient, make_member: MemberFactory, seeded: None
) -> None:
    people = await cast(client, make_member)
    _, _, issuance = await issued_project(client, people)
    retirement = await ok(
        await post(
            client,
            people.owner,
            "/retirements",
            {
                "asset_code": issuance["asset_code"],
                "quantity": 12,
                "beneficiary": "<script>alert(1)</script> 南江",
                "purpose": "offset",
                "claim_start": "2025-01-01",
                "claim_end": "2025-12-31",
            },
        ),
        201,
    )
    number = retirement["number"]
    assert retirement["verify_url"] == f"https://registry.example.cn/v1/public/retirements/{number}"
    page = await client.get(f"/v1/public/retirements/{number}", headers={"Accept": "text/html,*/*"})
    assert page.headers["content-type"].startswith("text/html")
    assert "&lt;script&gt;" in page.text
    assert "<script>" not in page.text
    assert f"BSC-{issuance['project_code']}-2025-000000001-000000012" in page.text
    data = await client.get(f"/v1/public/retirements/{number}")
    assert data.json()["serials"] == [f"BSC-{issuance['project_code']}-2025-000000001-000000012"]
