"""Walk every route of the OpenAPI document with another creator's ids: each answers 404."""

from __future__ import annotations

import re

BODIES = {
    ("post", "/api/messages/{message_id}/report"): {"status": "sent"},
    ("patch", "/api/messaging/accounts/{account_id}"): {"name": "hijack"},
    ("put", "/api/crm/fans/{fan_id}"): {"platform": "onlyfans", "platformFanId": "hijack"},
    ("patch", "/api/crm/fans/{fan_id}"): {"notes": "hijacked"},
    ("post", "/api/crm/conversations/{conversation_id}/messages"): {"text": "hijack"},
    ("put", "/api/crm/quick-replies/{reply_id}"): {"title": "x", "content": "hijack"},
    ("patch", "/api/crm/quick-replies/{reply_id}"): {"title": "hijack"},
    ("put", "/api/campaigns/{campaign_id}"): {"name": "x", "platforms": ["onlyfans"]},
    ("post", "/api/campaigns/{campaign_id}/schedule"): {"scheduledFor": "2030-01-01T00:00:00Z"},
    ("post", "/api/campaigns/{campaign_id}/ab-test"): {"variants": [{"name": "a"}, {"name": "b"}]},
    ("put", "/api/segments/{segment_id}"): {
        "name": "hijack",
        "criteria": {"field": "platform", "op": "eq", "value": "x"},
    },
}


def _victim(client, h):  # type: ignore[no-untyped-def]
    fan = client.post(
        "/api/crm/fans",
        json={"platform": "onlyfans", "platformFanId": "v1", "username": "victim"},
        headers=h,
    ).json()
    conv = client.post("/api/crm/conversations", json={"fanId": fan["id"]}, headers=h).json()
    msg = client.post(
        f"/api/crm/conversations/{conv['id']}/messages",
        json={"direction": "inbound", "text": "secret"},
        headers=h,
    ).json()
    reply = client.post(
        "/api/crm/quick-replies", json={"title": "q", "content": "c"}, headers=h
    ).json()
    account = client.post(
        "/api/messaging/accounts",
        json={"platform": "onlyfans", "name": "main", "channel": "manual", "secret": "s3cret"},
        headers=h,
    ).json()
    queued = client.post(
        "/api/onlyfans/messages/send", json={"recipientId": "v1", "content": "hi"}, headers=h
    ).json()
    bulk = client.post(
        "/api/messages/bulk",
        json={
            "recipients": {"fanIds": [fan["id"]]},
            "template": "hey {username}",
            "platform": "onlyfans",
        },
        headers=h,
    ).json()
    token = client.get("/api/tokens", headers=h).json()["items"][0]
    segment = client.post(
        "/api/segments",
        json={"name": "mine", "criteria": {"field": "platform", "op": "eq", "value": "onlyfans"}},
        headers=h,
    ).json()
    campaign = client.post(
        "/api/campaigns",
        json={
            "name": "mine",
            "platforms": ["onlyfans"],
            "content": {"default": {"text": "hi"}},
            "segmentIds": [segment["id"]],
        },
        headers=h,
    ).json()
    return {
        "campaign_id": campaign["id"],
        "segment_id": segment["id"],
        "token_id": token["id"],
        "account_id": account["id"],
        "outbox_id": queued["messageId"],
        "bulk_id": bulk["bulkId"],
        "fan_id": fan["id"],
        "conversation_id": conv["id"],
        "message_id": msg["id"],
        "reply_id": reply["id"],
    }


def test_every_route_answers_404_for_another_creators_ids(client, make_tenant) -> None:
    victim = make_tenant()
    attacker = make_tenant()
    ids = _victim(client, victim["headers"])
    own_fan = client.post(
        "/api/crm/fans",
        json={"platform": "onlyfans", "platformFanId": "a1"},
        headers=attacker["headers"],
    ).json()
    BODIES[("post", "/api/crm/quick-replies/{reply_id}/render")] = {"fanId": own_fan["id"]}

    walked = 0
    for path, ops in client.get("/openapi.json").json()["paths"].items():
        params = re.findall(r"{(\w+)}", path)
        if not params or path.startswith("/t/"):
            # /t/{token} answers fans, not creators: its signed token is the credential
            # (tests/campaigns/test_seed_scenario.py)
            continue
        url = path
        for p in params:
            key = "outbox_id" if p == "message_id" and not path.startswith("/api/crm/") else p
            assert key in ids, f"no victim id for path parameter {p} in {path}"
            url = url.replace("{" + p + "}", ids[key])
        for method in ops:
            body = BODIES.get((method, path))
            r = client.request(method.upper(), url, json=body, headers=attacker["headers"])
            assert r.status_code == 404, (method, path, r.status_code, r.text)
            assert r.json()["error"]["code"].endswith("not_found")
            walked += 1
    assert walked >= 23

    # ids in queries and bodies are checked too
    r = client.get(
        "/api/onlyfans/messages/status",
        params={"messageId": ids["outbox_id"]},
        headers=attacker["headers"],
    )
    assert r.status_code == 404
    r = client.get(
        "/api/messages/manual/next",
        params={"accountId": ids["account_id"]},
        headers=attacker["headers"],
    )
    assert r.status_code == 404
    r = client.post(
        "/api/messages/send",
        json={"platform": "onlyfans", "fanId": ids["fan_id"], "content": "x"},
        headers=attacker["headers"],
    )
    assert r.status_code == 404
    r = client.post(
        "/api/messages/bulk",
        json={"recipients": {"fanIds": [ids["fan_id"]]}, "template": "x", "platform": "onlyfans"},
        headers=attacker["headers"],
    )
    assert r.json()["queued"] == 0
    assert r.json()["skipped"] == [{"fanId": ids["fan_id"], "reason": "not_found"}]
    assert client.get("/api/messages/queue", headers=attacker["headers"]).json() == {"items": []}
    own_accounts = client.get("/api/messaging/accounts", headers=attacker["headers"]).json()
    assert ids["account_id"] not in [a["id"] for a in own_accounts["items"]]
    r = client.post(
        "/api/crm/conversations", json={"fanId": ids["fan_id"]}, headers=attacker["headers"]
    )
    assert r.status_code == 404
    own_reply = client.post(
        "/api/crm/quick-replies",
        json={"title": "t", "content": "{username}"},
        headers=attacker["headers"],
    ).json()
    r = client.post(
        f"/api/crm/quick-replies/{own_reply['id']}/render",
        json={"fanId": ids["fan_id"]},
        headers=attacker["headers"],
    )
    assert r.status_code == 404

    # lists show nothing of the victim's, and the victim's data is intact
    h = attacker["headers"]
    assert [f["id"] for f in client.get("/api/crm/fans", headers=h).json()["items"]] == [
        own_fan["id"]
    ]
    assert client.get("/api/crm/conversations", headers=h).json()["items"] == []
    assert client.get("/api/crm/messages/unread-count", headers=h).json() == {"unreadCount": 0}
    assert client.get("/api/crm/fans/top", headers=h).json()["items"][0]["id"] == own_fan["id"]
    v = client.get(f"/api/crm/fans/{ids['fan_id']}", headers=victim["headers"]).json()
    assert v["username"] == "victim" and v["notes"] is None
    assert client.get("/api/crm/messages/unread-count", headers=victim["headers"]).json() == {
        "unreadCount": 1
    }
