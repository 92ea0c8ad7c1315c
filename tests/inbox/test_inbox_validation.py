"""The inbox's requests refuse what its columns cannot store: NUL and lone surrogates in any
string, prices beyond BIGINT, ids beyond their bound, cursors holding unchecked values. Each
answers 422 naming the field (400 ``invalid_cursor`` for a cursor) and writes nothing
(issue 9, §1)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

INT64_MAX = 2**63 - 1


def _raw(client: Any, method: str, url: str, body: str, h: dict[str, str]) -> Any:
    """Send ``body`` as written: a lone surrogate escape (``\\ud800``) reaches the server as
    JSON, which httpx's own encoder (UTF-8) could not produce."""
    return client.request(
        method, url, content=body.encode(), headers={**h, "Content-Type": "application/json"}
    )


def _field(response: Any) -> str:
    assert response.status_code == 422, response.text
    body = response.json()["error"]
    assert body["code"] == "invalid_request"
    fields: list[str] = [d["field"] for d in body["details"]]
    assert len(fields) == 1, body
    return fields[0]


def _cursor(values: Any) -> str:
    raw = json.dumps(values).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.fixture
def conv(client, tenant) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    h = tenant["headers"]
    fan = client.post(
        "/api/crm/fans", json={"platform": "onlyfans", "platformFanId": "v1"}, headers=h
    ).json()
    return {
        "fan": fan,
        "conv": client.post("/api/crm/conversations", json={"fanId": fan["id"]}, headers=h).json(),
    }


BAD_STRINGS = [pytest.param('"a\\u0000b"', id="nul"), pytest.param('"a\\ud800b"', id="surrogate")]


@pytest.mark.parametrize("bad", BAD_STRINGS)
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{{"text": {bad}, "send": false}}', "text"),
        ('{{"mediaUrls": ["ok", {bad}], "send": false}}', "mediaUrls.1"),
    ],
)
def test_message_strings_must_be_valid_text(client, tenant, conv, bad, body, field) -> None:
    h = tenant["headers"]
    url = f"/api/crm/conversations/{conv['conv']['id']}/messages"
    r = _raw(client, "POST", url, body.format(bad=bad), h)
    assert _field(r) == field
    assert client.get(url, headers=h).json()["items"] == []


def test_price_is_bounded_to_bigint(client, tenant, conv) -> None:
    h = tenant["headers"]
    url = f"/api/crm/conversations/{conv['conv']['id']}/messages"
    for price in (INT64_MAX + 1, 10**30, -1):
        r = client.post(url, json={"text": "x", "priceCents": price, "send": False}, headers=h)
        assert _field(r) == "priceCents"
    assert client.get(url, headers=h).json()["items"] == []
    ok = client.post(url, json={"text": "x", "priceCents": INT64_MAX, "send": False}, headers=h)
    assert ok.status_code == 201 and ok.json()["priceCents"] == INT64_MAX
    assert client.get(url, headers=h).json()["items"][0]["priceCents"] == INT64_MAX


def test_sent_at_without_a_zone_is_utc(client, tenant, conv) -> None:
    h = tenant["headers"]
    url = f"/api/crm/conversations/{conv['conv']['id']}/messages"
    r = client.post(
        url,
        json={"direction": "inbound", "text": "x", "sentAt": "2026-10-01T08:30:00"},
        headers=h,
    )
    assert r.status_code == 201 and r.json()["sentAt"] == "2026-10-01T08:30:00Z"


@pytest.mark.parametrize("bad", BAD_STRINGS)
def test_conversation_and_render_ids_must_be_valid_text(client, tenant, conv, bad) -> None:
    h = tenant["headers"]
    assert _field(_raw(client, "POST", "/api/crm/conversations", f'{{"fanId": {bad}}}', h)) == (
        "fanId"
    )
    reply = client.post(
        "/api/crm/quick-replies", json={"title": "t", "content": "{username}"}, headers=h
    ).json()
    url = f"/api/crm/quick-replies/{reply['id']}/render"
    assert _field(_raw(client, "POST", url, f'{{"fanId": {bad}}}', h)) == "fanId"
    good = conv["fan"]["id"]
    r = _raw(client, "POST", url, f'{{"fanId": "{good}", "default": {bad}}}', h)
    assert _field(r) == "default"


def test_conversation_platform_is_a_platform_name(client, tenant, conv) -> None:
    h = tenant["headers"]
    fan = conv["fan"]["id"]
    r = client.post(
        "/api/crm/conversations", json={"fanId": fan, "platform": "Only Fans!/../x"}, headers=h
    )
    assert _field(r) == "platform"
    r = client.post(
        "/api/crm/conversations", json={"fanId": fan, "platform": " OnlyFans"}, headers=h
    )
    assert r.status_code == 200 and r.json()["id"] == conv["conv"]["id"]
    r = client.post("/api/crm/conversations", json={"fanId": "x" * 65}, headers=h)
    assert _field(r) == "fanId"


@pytest.mark.parametrize("bad", BAD_STRINGS)
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
@pytest.mark.parametrize("field", ["title", "content", "category"])
def test_quick_reply_strings_must_be_valid_text(client, tenant, bad, method, field) -> None:
    h = tenant["headers"]
    reply = client.post(
        "/api/crm/quick-replies", json={"title": "t", "content": "c"}, headers=h
    ).json()
    url = "/api/crm/quick-replies" + ("" if method == "POST" else f"/{reply['id']}")
    body = {"title": '"t"', "content": '"c"', "category": '"k"'} | {field: bad}
    raw = "{" + ", ".join(f'"{k}": {v}' for k, v in body.items()) + "}"
    assert _field(_raw(client, method, url, raw, h)) == field
    kept = client.get(f"/api/crm/quick-replies/{reply['id']}", headers=h).json()
    assert (kept["title"], kept["content"], kept["category"]) == ("t", "c", None)
    listed = client.get("/api/crm/quick-replies", headers=h).json()["items"]
    assert [r["id"] for r in listed] == [reply["id"]]


def test_path_and_query_values_must_be_valid_text(client, tenant) -> None:
    h = tenant["headers"]
    for url, field in [
        ("/api/crm/conversations/cnv%00x", "conversation_id"),
        ("/api/crm/conversations/cnv%00x/messages", "conversation_id"),
        ("/api/crm/quick-replies/qr%00x", "reply_id"),
        ("/api/crm/quick-replies?category=a%00b", "category"),
    ]:
        assert _field(client.get(url, headers=h)) == field, url
    r = client.post("/api/crm/messages/cmsg%00x/read", headers=h)
    assert _field(r) == "message_id"
    r = client.get("/api/crm/conversations/" + "c" * 65, headers=h)
    assert _field(r) == "conversation_id"


def test_outbox_ids_that_are_not_valid_text_are_refused(client, tenant) -> None:
    """The app's request guard answers 422 naming the parameter; without it, the status
    lookups answer 404 (such an id cannot exist). Never a database error."""
    h = tenant["headers"]
    for url, params, field in [
        ("/api/messages/msg%00x", None, "message_id"),
        ("/api/messages/bulk/bulk%00x", None, "bulk_id"),
        ("/api/onlyfans/messages/status", {"messageId": "msg\x00"}, "messageId"),
    ]:
        r = client.get(url, params=params, headers=h)
        assert r.status_code in (404, 422), (url, r.text)
        error = r.json()["error"]
        if r.status_code == 422:
            assert [d["field"] for d in error["details"]] == [field]
        else:
            assert error["code"].endswith("_not_found")


def test_cursors_holding_unchecked_values_are_invalid(client, tenant, conv) -> None:
    h = tenant["headers"]
    thread = f"/api/crm/conversations/{conv['conv']['id']}/messages"
    for url, values in [
        (thread, ["2026-01-01T00:00:00", "cmsg_x"]),  # a time without a zone
        (thread, ["2026-01-01T00:00:00+00:00", "a\u0000"]),
        (thread, ["not a time", "cmsg_x"]),
        (thread, [5, "cmsg_x"]),
        (thread, ["2026-01-01T00:00:00+00:00", 7]),
        ("/api/crm/quick-replies", ["a\u0000", "qr_x"]),
        ("/api/crm/quick-replies", [5, "qr_x"]),
        ("/api/crm/quick-replies", ["t", ["qr_x"]]),
        ("/api/crm/conversations", [2**70]),
        ("/api/crm/conversations", [-1]),
        ("/api/crm/conversations", ["3"]),
    ]:
        r = client.get(url, params={"cursor": _cursor(values)}, headers=h)
        assert r.status_code == 400, (url, values, r.text)
        assert r.json()["error"]["code"] == "invalid_cursor"
