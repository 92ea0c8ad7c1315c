"""Bulks at their bounds (issue 9 §1): templates with many placeholders render in SQL on both
databases, and 100,000 ``fanIds`` (the schema's limit) fit one request."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from huntaze.models.messaging import OutboxMessage
from tests.factories import create_fan

BULK = "/api/messages/bulk"


def _contents(engine: Engine, bulk_id: str) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(OutboxMessage.fan_id, OutboxMessage.content).where(
                OutboxMessage.bulk_id == bulk_id
            )
        )
        return {str(fan_id): str(content) for fan_id, content in rows}


@pytest.mark.parametrize("distinct", [30, 100, 1_000])
def test_templates_with_many_distinct_placeholders_render(
    client: TestClient, tenant: dict[str, Any], engine: Engine, distinct: int
) -> None:
    h = tenant["headers"]
    custom = {f"v{i}": f"<{i}>" for i in range(0, distinct, 2)}  # every other one is missing
    fan = create_fan(client, h, "1", displayName="Zoë Q", customFields=custom)
    names = [f"v{i}" for i in range(distinct)]
    template = "Hi {firstName} (" + " ".join("{" + n + "}" for n in names) + ") {username}!"
    assert len(template) <= 10_000
    r = client.post(
        BULK,
        json={
            "platform": "onlyfans",
            "template": template,
            "default": "-",
            "recipients": {"fanIds": [fan["id"]]},
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    rendered = " ".join(custom.get(n, "-") for n in names)
    assert _contents(engine, r.json()["bulkId"]) == {fan["id"]: f"Hi Zoë ({rendered}) user1!"}


@pytest.mark.parametrize(
    "template",
    [
        pytest.param("{a}" * 3_333, id="3333-placeholders"),
        pytest.param("{a}." * 2_500, id="5000-pieces"),
        pytest.param("".join(f"{{v{i}}}" for i in range(2_000))[:10_000], id="2000-distinct"),
    ],
)
def test_the_longest_templates_render(
    client: TestClient, tenant: dict[str, Any], engine: Engine, template: str
) -> None:
    h = tenant["headers"]
    fan = create_fan(client, h, "1", customFields={"a": "A"})
    r = client.post(
        BULK,
        json={"platform": "onlyfans", "template": template, "recipients": {"filter": {}}},
        headers=h,
    )
    assert r.status_code == 200, r.text
    content = _contents(engine, r.json()["bulkId"])[fan["id"]]
    if template.startswith("{a}"):
        assert content == template.replace("{a}", "A")


def test_values_are_put_in_one_pass(
    client: TestClient, tenant: dict[str, Any], engine: Engine
) -> None:
    """A value that looks like a placeholder stays as written (one nested ``replace()`` per
    placeholder used to substitute it again)."""
    h = tenant["headers"]
    fan = create_fan(
        client,
        h,
        "1",
        username="{email}",
        displayName="{city} Doe",
        email="zoe@example.com",
        customFields={"city": "{username}", "n": 5},
    )
    r = client.post(
        BULK,
        json={
            "platform": "onlyfans",
            "template": "{username}|{displayName}|{firstName}|{city}|{n}|{missing}|{ x}|{",
            "default": "?",
            "recipients": {"fanIds": [fan["id"]]},
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert _contents(engine, r.json()["bulkId"]) == {
        fan["id"]: "{email}|{city} Doe|{city}|{username}|5|?|{ x}|{"
    }


def test_a_template_without_placeholders_is_sent_as_written(
    client: TestClient, tenant: dict[str, Any], engine: Engine
) -> None:
    h = tenant["headers"]
    fan = create_fan(client, h, "1")
    r = client.post(
        BULK,
        json={"platform": "onlyfans", "template": "Hi ' there", "recipients": {"filter": {}}},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert _contents(engine, r.json()["bulkId"]) == {fan["id"]: "Hi ' there"}


def test_a_bulk_takes_100000_fan_ids(
    client: TestClient, tenant: dict[str, Any], engine: Engine
) -> None:
    """PostgreSQL's protocol carries at most 65,535 bound parameters per statement: the ids
    go as one parameter, so the schema's limit of 100,000 works on both databases."""
    h = tenant["headers"]
    fans = [create_fan(client, h, str(i)) for i in range(3)]
    opted_out = create_fan(client, h, "out", consent="opted_out")
    known = [f["id"] for f in fans] + [opted_out["id"]]
    missing = [f"fan_missing_{i:06d}" for i in range(100_000 - len(known))]
    ids = known + missing
    r = client.post(
        BULK,
        json={"platform": "onlyfans", "template": "Hi {username}", "recipients": {"fanIds": ids}},
        headers=h,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["queued"] == 3
    assert body["skippedCount"] == 1 + len(missing)
    assert body["skipped"][0] == {"fanId": opted_out["id"], "reason": "opted_out"}
    assert {s["reason"] for s in body["skipped"][1:]} == {"not_found"}
    assert len(body["skipped"]) == 1_000
    assert _contents(engine, body["bulkId"]) == {f["id"]: f"Hi {f['username']}" for f in fans}


def test_more_than_100000_fan_ids_is_422(client: TestClient, tenant: dict[str, Any]) -> None:
    r = client.post(
        BULK,
        json={
            "platform": "onlyfans",
            "template": "x",
            "recipients": {"fanIds": [f"f{i}" for i in range(100_001)]},
        },
        headers=tenant["headers"],
    )
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "recipients.fanIds"
