"""Every paged list checks a client's cursor the same way (``kit.keyset.Keyset``): a cursor
made for another list, another sort, or holding a value the columns cannot hold answers 400
``invalid_cursor`` before anything reaches the database, and a list's own cursors walk it
once, in order."""

from __future__ import annotations

import base64
import json
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import create_fan


def _cursor(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _refused(client: TestClient, url: str, cursor: str, headers: dict[str, str]) -> None:
    r = client.get(url, params={"cursor": cursor}, headers=headers)
    assert r.status_code == 400, (url, cursor, r.text)
    assert r.json()["error"]["code"] == "invalid_cursor"


def test_a_cursor_holding_what_the_columns_cannot_hold_is_refused(client, tenant) -> None:  # type: ignore[no-untyped-def]
    h = tenant["headers"]
    fan = create_fan(client, h, "k1")
    purchases = f"/api/crm/fans/{fan['id']}/purchases"
    for url in ("/api/tokens", purchases):
        for values in (
            ["2026-01-01T00:00:00", "tok_x"],  # a time without a zone
            ["2026-01-01T00:00:00+00:00", 7],  # an id that is not text
            ["2026-01-01T00:00:00+00:00", "x" * 300],  # an id no list makes
            ["2026-01-01T00:00:00+00:00", "a\ud800"],  # a lone surrogate
            [None, "tok_x"],  # NULL in a column that never holds it
            ["-createdAt", "2026-01-01T00:00:00+00:00", "tok_x"],  # another list's shape
        ):
            _refused(client, url, _cursor(values), h)


def test_a_fan_list_cursor_is_refused_under_another_sort(client, tenant) -> None:  # type: ignore[no-untyped-def]
    h = tenant["headers"]
    for n in range(3):
        create_fan(client, h, f"k{n}")
    page = client.get("/api/crm/fans", params={"limit": 1, "sort": "-createdAt"}, headers=h)
    cursor = page.json()["nextCursor"]
    assert cursor is not None
    r = client.get(
        "/api/crm/fans", params={"cursor": cursor, "sort": "lifetimeValueCents"}, headers=h
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_cursor"
    assert "another sort" in r.json()["error"]["message"]
    # and the list's own cursor walks every fan once, newest first
    seen = [item["platformFanId"] for item in page.json()["items"]]
    while cursor is not None:
        params = {"limit": 1, "sort": "-createdAt", "cursor": cursor}
        nxt = client.get("/api/crm/fans", params=params, headers=h).json()
        seen += [item["platformFanId"] for item in nxt["items"]]
        cursor = nxt["nextCursor"]
    assert sorted(seen) == ["k0", "k1", "k2"] and len(seen) == 3
