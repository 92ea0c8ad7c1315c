"""The fans CRM routes: shapes, search, filters, sort, cursor pagination, top fans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest


def _fan(i: int, **extra):  # type: ignore[no-untyped-def]
    return {"platform": "onlyfans", "platformFanId": str(i), "username": f"user{i}", **extra}


def test_create_and_read_shape(client, tenant) -> None:
    body = _fan(
        1,
        displayName="Amélie Zoë",
        email="amelie@example.com",
        tags=["vip", " whales ", "vip"],
        subscriptionStatus="active",
        subscribedAt="2026-01-02T03:04:05.123456Z",
        lifetimeValueCents=12345,
        currency="eur",
        timezone="Europe/Paris",
        consent="opted_out",
        notes="likes feet pics",
        customFields={"tier": "gold"},
    )
    r = client.post("/api/crm/fans", json=body, headers=tenant["headers"])
    assert r.status_code == 201
    fan = r.json()
    assert fan["id"].startswith("fan_")
    assert fan["tags"] == ["vip", "whales"]
    assert fan["currency"] == "EUR"
    assert fan["subscribedAt"] == "2026-01-02T03:04:05.123456Z"
    assert fan["consent"] == "opted_out"
    assert set(fan) == {
        "id",
        "platform",
        "platformFanId",
        "username",
        "displayName",
        "email",
        "tags",
        "subscriptionStatus",
        "subscribedAt",
        "expiresAt",
        "lastActiveAt",
        "lifetimeValueCents",
        "currency",
        "timezone",
        "consent",
        "notes",
        "customFields",
        "createdAt",
        "updatedAt",
    }
    assert client.get(f"/api/crm/fans/{fan['id']}", headers=tenant["headers"]).json() == fan


def test_duplicate_key_is_409(client, tenant) -> None:
    assert client.post("/api/crm/fans", json=_fan(1), headers=tenant["headers"]).status_code == 201
    r = client.post("/api/crm/fans", json=_fan(1), headers=tenant["headers"])
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "fan_exists"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"platform": "onlyfans"}, "platformFanId"),
        (_fan(1, timezone="Mars/Olympus"), "timezone"),
        (_fan(1, currency="dollars"), "currency"),
        (_fan(1, subscriptionStatus="gold"), "subscriptionStatus"),
        (_fan(1, lastActiveAt="2026-01-01T00:00:00"), "lastActiveAt"),
        (_fan(1, unknownField=1), "unknownField"),
    ],
)
def test_bad_input_is_422_naming_the_field(client, tenant, body, field) -> None:
    r = client.post("/api/crm/fans", json=body, headers=tenant["headers"])
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "invalid_request"
    assert any(d["field"] == field for d in err["details"]), err


def test_put_patch_delete(client, tenant) -> None:
    h = tenant["headers"]
    fan = client.post("/api/crm/fans", json=_fan(1, tags=["a"], notes="x"), headers=h).json()
    put = client.put(
        f"/api/crm/fans/{fan['id']}", json=_fan(1, username="renamed"), headers=h
    ).json()
    assert put["username"] == "renamed" and put["notes"] is None and put["tags"] == []
    patched = client.patch(
        f"/api/crm/fans/{fan['id']}", json={"tags": ["b"], "consent": "opted_in"}, headers=h
    ).json()
    assert (
        patched["username"] == "renamed"
        and patched["tags"] == ["b"]
        and patched["consent"] == "opted_in"
    )
    r = client.patch(f"/api/crm/fans/{fan['id']}", json={"consent": None}, headers=h)
    assert r.status_code == 422
    assert client.delete(f"/api/crm/fans/{fan['id']}", headers=h).status_code == 204
    assert client.get(f"/api/crm/fans/{fan['id']}", headers=h).status_code == 404


def test_search_filters_and_top(client, tenant, clock) -> None:
    h = tenant["headers"]
    base = datetime(2026, 10, 1, tzinfo=UTC)
    specs = [
        ("1", "alice", "Alice Wonder", "alice@example.com", "onlyfans", 5000, "active", ["vip"], 1),
        ("2", "bob", "Bob 100%", "bob@example.org", "onlyfans", 100, "expired", [], 10),
        ("3", "carla", "Carla", "CARLA@EXAMPLE.COM", "patreon", 900, "active", ["vip"], 20),
        ("4", "dan_x", None, None, "tiktok", 0, "follower", [], None),
    ]
    ids = {}
    for key, user, name, email, platform, ltv, status, tags, days in specs:
        body = {
            "platform": platform,
            "platformFanId": key,
            "username": user,
            "displayName": name,
            "email": email,
            "lifetimeValueCents": ltv,
            "subscriptionStatus": status,
            "tags": tags,
            "lastActiveAt": (base - timedelta(days=days)).isoformat() if days else None,
        }
        ids[user] = client.post("/api/crm/fans", json=body, headers=h).json()["id"]

    def names(**params):  # type: ignore[no-untyped-def]
        r = client.get("/api/crm/fans", params=params, headers=h)
        assert r.status_code == 200, r.text
        return [f["username"] for f in r.json()["items"]]

    def name_set(**params):  # type: ignore[no-untyped-def]
        return sorted(names(**params))

    assert names(q="ALI") == ["alice"]
    assert name_set(q="example.com") == ["alice", "carla"]
    assert names(q="100%") == ["bob"]
    assert names(q="_x") == ["dan_x"]
    assert name_set(platform="onlyfans") == ["alice", "bob"]
    assert name_set(tag="vip") == ["alice", "carla"]
    assert names(subscriptionStatus="active", sort="-lifetimeValueCents") == ["alice", "carla"]
    assert name_set(minLifetimeValueCents=100, maxLifetimeValueCents=900) == [
        "bob",
        "carla",
    ]
    assert name_set(lastActiveBefore="2026-09-25T00:00:00Z") == ["bob", "carla"]
    assert names(lastActiveAfter="2026-09-25T00:00:00Z") == ["alice"]
    assert names(sort="-lastActiveAt") == ["alice", "bob", "carla", "dan_x"]
    assert names(sort="lastActiveAt") == ["carla", "bob", "alice", "dan_x"]
    top = client.get("/api/crm/fans/top", params={"limit": 2}, headers=h).json()["items"]
    assert [f["username"] for f in top] == ["alice", "carla"]
    r = client.get("/api/crm/fans", params={"sort": "email"}, headers=h)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_sort"


@pytest.mark.parametrize(
    "sort", ["-createdAt", "lifetimeValueCents", "-lastActiveAt", "subscribedAt"]
)
def test_cursor_pagination_visits_every_fan_once(client, tenant, clock, sort) -> None:
    h = tenant["headers"]
    for i in range(23):
        clock.advance(1)
        body = _fan(i, lifetimeValueCents=(i % 4) * 100)
        if i % 3:
            body["lastActiveAt"] = f"2026-01-{1 + i % 5:02d}T00:00:00Z"
        client.post("/api/crm/fans", json=body, headers=h)
    seen: list[str] = []
    cursor, pages = None, 0
    while True:
        params = {"limit": 5, "sort": sort}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/crm/fans", params=params, headers=h).json()
        seen.extend(f["platformFanId"] for f in page["items"])
        pages += 1
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert pages == 5
    assert sorted(seen, key=int) == [str(i) for i in range(23)]
    full = client.get("/api/crm/fans", params={"limit": 100, "sort": sort}, headers=h).json()
    assert [f["platformFanId"] for f in full["items"]] == seen


def test_purchases_newest_first(client, tenant, engine, clock) -> None:
    from huntaze.imports.records import FanRecord, PurchaseRecord
    from huntaze.imports.writing.writer import ImportWriter
    from huntaze.models.crm import PurchaseKindValue

    class P:
        format = "test"
        platform = "onlyfans"
        provides = frozenset({"username"})
        columns: ClassVar[dict[str, str]] = {}

        def parse(self, stream):  # type: ignore[no-untyped-def]
            fan = FanRecord(platform="onlyfans", platform_fan_id="77", line=1, username="zed")
            sales: list[tuple[PurchaseKindValue, int]] = [
                ("tip", 500),
                ("ppv_message", 1200),
                ("chargeback", -500),
            ]
            for i, (kind, net) in enumerate(sales):
                yield PurchaseRecord(
                    fan=fan,
                    kind=kind,
                    gross_cents=net,
                    net_cents=net,
                    currency="USD",
                    purchased_at=datetime(2026, 1, 1 + i, tzinfo=UTC),
                    transaction_id=f"t{i}",
                    line=i + 1,
                )

    import io

    ImportWriter(engine, tenant["creator_id"], P(), clock).run(io.BytesIO(b""))
    h = tenant["headers"]
    fan = client.get("/api/crm/fans", params={"q": "zed"}, headers=h).json()["items"][0]
    assert fan["lifetimeValueCents"] == 1200
    assert fan["lastActiveAt"] == "2026-01-03T00:00:00Z"
    page = client.get(f"/api/crm/fans/{fan['id']}/purchases", params={"limit": 2}, headers=h).json()
    assert [p["kind"] for p in page["items"]] == ["chargeback", "ppv_message"]
    assert page["items"][0]["netCents"] == -500
    rest = client.get(
        f"/api/crm/fans/{fan['id']}/purchases", params={"cursor": page["nextCursor"]}, headers=h
    ).json()
    assert [p["kind"] for p in rest["items"]] == ["tip"] and rest["nextCursor"] is None


def test_deleting_a_fan_keeps_its_outbox_messages(client, tenant, sessions) -> None:  # type: ignore[no-untyped-def]
    from huntaze.models.messaging import OutboxMessage
    from tests.factories import create_account, create_fan, send_message

    h = tenant["headers"]
    create_account(client, h)
    fan = create_fan(client, h, "gone")
    sent = send_message(client, h, fan["id"], "hi")
    assert client.delete(f"/api/crm/fans/{fan['id']}", headers=h).status_code == 204
    assert client.get(f"/api/crm/fans/{fan['id']}", headers=h).status_code == 404
    # the message is still answered, still addressed, and no longer points at the fan
    status = client.get(f"/api/messages/{sent['messageId']}", headers=h)
    assert status.status_code == 200 and status.json()["status"] == "queued"
    with sessions() as s:
        row = s.get(OutboxMessage, sent["messageId"])
        assert row is not None and row.fan_id is None and row.recipient == "gone"


def test_purchases_at_the_same_instant_page_once_each(client, tenant, sessions) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import insert

    from huntaze.models.crm import Purchase
    from tests.factories import create_fan, purchase_values

    h = tenant["headers"]
    fan = create_fan(client, h, "p1")
    same = datetime(2026, 3, 1, tzinfo=UTC)
    rows = [
        purchase_values(tenant["creator_id"], fan["id"], f"k{i}", 100 * (i + 1), same)
        for i in range(3)
    ]
    rows.append(
        purchase_values(tenant["creator_id"], fan["id"], "old", 50, same - timedelta(days=1))
    )
    with sessions() as s, s.begin():
        s.execute(insert(Purchase), rows)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get(f"/api/crm/fans/{fan['id']}/purchases", params=params, headers=h)
        assert page.status_code == 200
        seen += [p["transactionId"] for p in page.json()["items"]]
        cursor = page.json()["nextCursor"]
        if cursor is None:
            break
    assert sorted(seen[:3]) == ["k0", "k1", "k2"] and seen[3:] == ["old"]
