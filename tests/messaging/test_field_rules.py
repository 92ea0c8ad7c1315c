"""Messaging request fields at their bounds (issue 9 §1): money past 64 bits, text a column
cannot store, account names and settings, send limits and the bulk filter's dates answer
422 (409 for a taken name) naming the field, and change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from huntaze.models.messaging import OutboxMessage
from tests.factories import create_fan

ACCOUNTS = "/api/messaging/accounts"


def _send(client: TestClient, method: str, url: str, body: str, h: dict[str, str]) -> Any:
    """Send ``body`` as written, so ``\\ud800`` and ``\\u0000`` escapes reach the server."""
    return client.request(
        method, url, content=body.encode(), headers={**h, "Content-Type": "application/json"}
    )


def _field_error(r: Any, field: str) -> str:
    assert r.status_code == 422, r.text
    details = r.json()["error"]["details"]
    fields = [d.get("field") for d in details]
    named = [i for i, f in enumerate(fields) if f == field or str(f).startswith(field + ".")]
    assert named, details
    return str(details[named[0]].get("message", r.json()["error"]["message"]))


def _queued(engine: Engine, creator_id: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.creator_id == creator_id)
            )
            or 0
        )


# -- money ------------------------------------------------------------------------------


@pytest.mark.parametrize("price", [2**63, 2**70, -1])
def test_prices_outside_64_bit_cents_are_refused(
    client: TestClient, tenant: dict[str, Any], engine: Engine, price: int
) -> None:
    h = tenant["headers"]
    fan = create_fan(client, h, "1")
    requests = [
        ("/api/onlyfans/messages/send", {"recipientId": "1", "content": "x"}),
        ("/api/messages/send", {"platform": "onlyfans", "fanId": fan["id"], "content": "x"}),
        (
            "/api/messages/bulk",
            {"platform": "onlyfans", "template": "x", "recipients": {"fanIds": [fan["id"]]}},
        ),
    ]
    for url, body in requests:
        _field_error(client.post(url, json={**body, "priceCents": price}, headers=h), "priceCents")
    assert _queued(engine, tenant["creator_id"]) == 0
    r = client.post(requests[0][0], json={**requests[0][1], "priceCents": 2**63 - 1}, headers=h)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("bound", ["minLifetimeValueCents", "maxLifetimeValueCents"])
def test_bulk_filter_integers_past_64_bits_are_refused(
    client: TestClient, tenant: dict[str, Any], engine: Engine, bound: str
) -> None:
    h = tenant["headers"]
    create_fan(client, h, "1")
    r = client.post(
        "/api/messages/bulk",
        json={"platform": "onlyfans", "template": "x", "recipients": {"filter": {bound: 2**64}}},
        headers=h,
    )
    _field_error(r, f"recipients.filter.{bound}")
    assert _queued(engine, tenant["creator_id"]) == 0


# -- the bulk filter's dates ------------------------------------------------------------


@pytest.mark.parametrize(
    "after", ["2025-06-01", "2025-06-01T00:00:00", "2025-06-01T00:00:00Z", "2025-06-01T02:00+02:00"]
)
def test_bulk_filter_dates_without_a_zone_are_utc(
    client: TestClient, tenant: dict[str, Any], engine: Engine, after: str
) -> None:
    h = tenant["headers"]
    create_fan(client, h, "before", lastActiveAt="2025-05-31T23:59:59Z")
    inside = create_fan(client, h, "inside", lastActiveAt="2025-06-01T00:00:00Z")
    create_fan(client, h, "after", lastActiveAt="2025-06-02T00:00:00Z")
    r = client.post(
        "/api/messages/bulk",
        json={
            "platform": "onlyfans",
            "template": "x",
            "recipients": {"filter": {"lastActiveAfter": after, "lastActiveBefore": "2025-06-02"}},
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["queued"], r.json()["skippedCount"]) == (1, 0)
    with engine.connect() as conn:
        sent_to = conn.scalars(
            select(OutboxMessage.fan_id).where(OutboxMessage.bulk_id == r.json()["bulkId"])
        ).all()
    assert sent_to == [inside["id"]]


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00", "soon"])
def test_bulk_filter_dates_off_the_calendar_are_refused(
    client: TestClient, tenant: dict[str, Any], when: str
) -> None:
    r = client.post(
        "/api/messages/bulk",
        json={
            "platform": "onlyfans",
            "template": "x",
            "recipients": {"filter": {"lastActiveAfter": when}},
        },
        headers=tenant["headers"],
    )
    _field_error(r, "recipients.filter.lastActiveAfter")


# -- text a column cannot store ---------------------------------------------------------

BAD = [pytest.param("\\u0000", id="nul"), pytest.param("\\ud800", id="lone-surrogate")]


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/onlyfans/messages/send", '{{"recipientId": "1", "content": "hi{bad}"}}', "content"),
        (
            "/api/onlyfans/messages/send",
            '{{"recipientId": "1{bad}", "content": "x"}}',
            "recipientId",
        ),
        (
            "/api/onlyfans/messages/send",
            '{{"recipientId": "1", "content": "x", "mediaUrls": ["m{bad}"]}}',
            "mediaUrls",
        ),
        (
            "/api/messages/send",
            '{{"platform": "email", "recipientId": "1", "content": "x", "subject": "s{bad}"}}',
            "subject",
        ),
        (
            "/api/messages/bulk",
            '{{"platform": "onlyfans", "template": "hi {{username}}{bad}", '
            '"recipients": {{"filter": {{}}}}}}',
            "template",
        ),
        (
            "/api/messages/bulk",
            '{{"platform": "onlyfans", "template": "x", "default": "{bad}", '
            '"recipients": {{"filter": {{}}}}}}',
            "default",
        ),
        (
            "/api/messages/bulk",
            '{{"platform": "onlyfans", "template": "x", "recipients": {{"fanIds": ["f{bad}"]}}}}',
            "recipients.fanIds",
        ),
        (
            "/api/messages/bulk",
            '{{"platform": "onlyfans", "template": "x", '
            '"recipients": {{"filter": {{"q": "a{bad}"}}}}}}',
            "recipients.filter.q",
        ),
        (
            "/api/messages/bulk",
            '{{"platform": "onlyfans", "template": "x", '
            '"recipients": {{"filter": {{"tag": "a{bad}"}}}}}}',
            "recipients.filter.tag",
        ),
    ],
)
def test_sends_refuse_nul_and_lone_surrogates(
    client: TestClient,
    tenant: dict[str, Any],
    engine: Engine,
    url: str,
    body: str,
    field: str,
    bad: str,
) -> None:
    h = tenant["headers"]
    create_fan(client, h, "1")
    message = _field_error(_send(client, "POST", url, body.format(bad=bad), h), field)
    assert "\x00" not in message and "\ud800" not in message
    assert _queued(engine, tenant["creator_id"]) == 0


# -- sending accounts -------------------------------------------------------------------


def _account(client: TestClient, h: dict[str, str], name: str, **extra: Any) -> dict[str, Any]:
    r = client.post(
        ACCOUNTS, json={"platform": "onlyfans", "name": name, "channel": "noop", **extra}, headers=h
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{{"name": "x{bad}"}}', "name"),
        ('{{"settings": {{"note": "x{bad}"}}}}', "settings"),
        ('{{"settings": {{"x{bad}": "key"}}}}', "settings"),
        ('{{"secret": "s{bad}"}}', "secret"),
        ('{{"sendLimits": "10/minute{bad}"}}', "sendLimits"),
    ],
)
def test_account_changes_refuse_nul_and_lone_surrogates(
    client: TestClient, tenant: dict[str, Any], body: str, field: str, bad: str
) -> None:
    h = tenant["headers"]
    account = _account(client, h, "main")
    url = f"{ACCOUNTS}/{account['id']}"
    _field_error(_send(client, "PATCH", url, body.format(bad=bad), h), field)
    created = '{{"platform": "onlyfans", "name": "other", "channel": "noop", ' + body[2:]
    if field == "name":
        created = '{{"platform": "onlyfans", "channel": "noop", ' + body[2:]
    _field_error(_send(client, "POST", ACCOUNTS, created.format(bad=bad), h), field)
    assert client.get(url, headers=h).json() == account
    assert [a["id"] for a in client.get(ACCOUNTS, headers=h).json()["items"]] == [account["id"]]


def test_deep_settings_are_refused_and_the_account_still_reads(
    client: TestClient, tenant: dict[str, Any]
) -> None:
    h = tenant["headers"]
    account = _account(client, h, "main")
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(300):
        node["a"] = {}
        node = node["a"]
    r = client.patch(f"{ACCOUNTS}/{account['id']}", json={"settings": deep}, headers=h)
    assert "nested too deep" in _field_error(r, "settings")
    _field_error(
        client.post(
            ACCOUNTS, json={"platform": "onlyfans", "name": "x", "settings": deep}, headers=h
        ),
        "settings",
    )
    assert client.get(ACCOUNTS, headers=h).json()["items"] == [account]


@pytest.mark.parametrize("taken", ["taken", " taken ", "taken\t"])
def test_renaming_to_a_taken_name_is_409_and_changes_nothing(
    client: TestClient, tenant: dict[str, Any], taken: str
) -> None:
    h = tenant["headers"]
    _account(client, h, "taken")
    account = _account(client, h, "mine")
    r = client.patch(f"{ACCOUNTS}/{account['id']}", json={"name": taken}, headers=h)
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "sending_account_exists"
    assert r.json()["error"]["details"] == [{"field": "name"}]
    r = client.post(ACCOUNTS, json={"platform": "onlyfans", "name": taken}, headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "sending_account_exists"
    assert client.get(f"{ACCOUNTS}/{account['id']}", headers=h).json() == account


def test_account_names_are_exact_spellings(client: TestClient, tenant: dict[str, Any]) -> None:
    """``Main`` and ``main`` are two names, the same way on both databases."""
    h = tenant["headers"]
    _account(client, h, "main")
    other = _account(client, h, "other")
    r = client.patch(f"{ACCOUNTS}/{other['id']}", json={"name": "MAIN"}, headers=h)
    assert r.status_code == 200 and r.json()["name"] == "MAIN"
    r = client.patch(f"{ACCOUNTS}/{other['id']}", json={"name": "main"}, headers=h)
    assert r.status_code == 409


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_blank_and_long_account_names_are_refused(
    client: TestClient, tenant: dict[str, Any], name: str
) -> None:
    h = tenant["headers"]
    account = _account(client, h, "main")
    _field_error(
        client.patch(f"{ACCOUNTS}/{account['id']}", json={"name": name}, headers=h), "name"
    )
    _field_error(
        client.post(ACCOUNTS, json={"platform": "onlyfans", "name": name}, headers=h), "name"
    )


@pytest.mark.parametrize(
    "limits",
    ["99999999999999999999999/second", "1000001/second", "1/99999999999999 years", "1/367days"],
)
def test_send_limits_past_their_bounds_are_refused(
    client: TestClient, tenant: dict[str, Any], limits: str
) -> None:
    h = tenant["headers"]
    fan = create_fan(client, h, "1")
    r = client.post(
        ACCOUNTS, json={"platform": "onlyfans", "name": "a", "sendLimits": limits}, headers=h
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_send_limits"
    account = _account(client, h, "b")
    r = client.patch(f"{ACCOUNTS}/{account['id']}", json={"sendLimits": limits}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["details"] == [{"field": "sendLimits"}]
    r = client.post(
        "/api/messages/send",
        json={"platform": "onlyfans", "fanId": fan["id"], "content": "x"},
        headers=h,
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("limits", ["1000000/second", "1/year", "5/366days"])
def test_send_limits_at_their_bounds_give_estimates(
    client: TestClient, tenant: dict[str, Any], limits: str
) -> None:
    h = tenant["headers"]
    fan = create_fan(client, h, "1")
    _account(client, h, "a", sendLimits=limits)
    for _ in range(2):
        r = client.post(
            "/api/messages/send",
            json={"platform": "onlyfans", "fanId": fan["id"], "content": "x"},
            headers=h,
        )
        assert r.status_code == 200, r.text
        assert r.json()["estimatedDelivery"]


@pytest.mark.parametrize(
    ("platform", "ok"), [(" OnlyFans", True), ("Only Fans!/../x", False), ("x" * 33, False)]
)
def test_platforms_follow_the_shared_rule(
    client: TestClient, tenant: dict[str, Any], platform: str, ok: bool
) -> None:
    h = tenant["headers"]
    r = client.post(
        ACCOUNTS, json={"platform": platform, "name": "a", "channel": "noop"}, headers=h
    )
    if ok:
        assert r.status_code == 201 and r.json()["platform"] == "onlyfans"
    else:
        _field_error(r, "platform")
        r = client.post(
            "/api/messages/send",
            json={"platform": platform, "recipientId": "1", "content": "x"},
            headers=h,
        )
        _field_error(r, "platform")


@pytest.mark.parametrize("bad", ["%00", "a%00b"])
def test_account_ids_no_column_could_hold_are_refused(
    client: TestClient, tenant: dict[str, Any], bad: str
) -> None:
    h = tenant["headers"]
    account = _account(client, h, "main")
    for method, url, body in (
        ("GET", f"{ACCOUNTS}/{bad}", None),
        ("PATCH", f"{ACCOUNTS}/{bad}", {"name": "x"}),
        ("DELETE", f"{ACCOUNTS}/{bad}", None),
        ("GET", f"/api/messages/manual/next?accountId={bad}", None),
    ):
        r = client.request(method, url, json=body, headers=h)
        # 422 naming the parameter from the app's guard on path and query values, or 404
        # from the account service itself (which PostgreSQL would otherwise answer with 500)
        assert r.status_code in (404, 422), (method, url, r.text)
        if r.status_code == 404:
            assert r.json()["error"]["code"] == "sending_account_not_found"
        else:
            assert r.json()["error"]["details"][0]["field"] in ("account_id", "accountId")
    assert client.get(ACCOUNTS, headers=h).json()["items"] == [account]
