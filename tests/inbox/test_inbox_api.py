"""Conversations, messages, unread counts and quick replies."""

from __future__ import annotations


def _setup(client, h, n=1):  # type: ignore[no-untyped-def]
    fans = []
    for i in range(n):
        fans.append(
            client.post(
                "/api/crm/fans",
                json={
                    "platform": "onlyfans",
                    "platformFanId": f"f{i}",
                    "username": f"u{i}",
                    "displayName": f"Jürgen{i} Ødegaard",
                    "customFields": {"city": "Oslo"},
                },
                headers=h,
            ).json()
        )
    return fans


def test_conversation_flow(client, tenant, clock) -> None:
    h = tenant["headers"]
    a, b, c = _setup(client, h, 3)
    convs = {}
    for fan in (a, b, c):
        r = client.post("/api/crm/conversations", json={"fanId": fan["id"]}, headers=h)
        assert r.status_code == 201
        convs[fan["id"]] = r.json()["id"]
    again = client.post("/api/crm/conversations", json={"fanId": a["id"]}, headers=h)
    assert again.status_code == 200 and again.json()["id"] == convs[a["id"]]

    def post(fan, **body):  # type: ignore[no-untyped-def]
        clock.advance(60)
        r = client.post(f"/api/crm/conversations/{convs[fan['id']]}/messages", json=body, headers=h)
        assert r.status_code == 201, r.text
        return r.json()

    post(a, direction="outbound", text="hello")
    m1 = post(b, direction="inbound", text="hi there")
    post(b, direction="inbound", text="you there?", mediaUrls=["https://cdn.example.com/1.jpg"])
    ppv = post(c, direction="outbound", text="unlock me", priceCents=1500, purchased=True)
    assert ppv["priceCents"] == 1500 and ppv["purchased"] is True
    post(a, direction="outbound", text="later")

    assert client.get("/api/crm/messages/unread-count", headers=h).json() == {"unreadCount": 2}
    listed = client.get("/api/crm/conversations", headers=h).json()["items"]
    # unread first (b), then by last message time: a (newest), c
    assert [x["fanId"] for x in listed] == [b["id"], a["id"], c["id"]]
    assert listed[0]["unreadCount"] == 2

    msgs = client.get(f"/api/crm/conversations/{convs[b['id']]}/messages", headers=h).json()[
        "items"
    ]
    assert [m["text"] for m in msgs] == ["you there?", "hi there"]
    assert msgs[0]["mediaUrls"] == ["https://cdn.example.com/1.jpg"]

    r = client.post(f"/api/crm/messages/{m1['id']}/read", headers=h)
    assert r.json() == {"marked": 1}
    assert client.post(f"/api/crm/messages/{m1['id']}/read", headers=h).json() == {"marked": 0}
    assert client.get("/api/crm/messages/unread-count", headers=h).json() == {"unreadCount": 1}
    r = client.post(f"/api/crm/conversations/{convs[b['id']]}/read", headers=h)
    assert r.json() == {"marked": 1}
    assert client.get("/api/crm/messages/unread-count", headers=h).json() == {"unreadCount": 0}
    conv_b = client.get(f"/api/crm/conversations/{convs[b['id']]}", headers=h).json()
    assert conv_b["unreadCount"] == 0


def test_message_pagination(client, tenant, clock) -> None:
    h = tenant["headers"]
    (fan,) = _setup(client, h)
    conv = client.post("/api/crm/conversations", json={"fanId": fan["id"]}, headers=h).json()
    for i in range(7):
        clock.advance(1)
        client.post(
            f"/api/crm/conversations/{conv['id']}/messages", json={"text": str(i)}, headers=h
        )
    texts, cursor = [], None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get(
            f"/api/crm/conversations/{conv['id']}/messages", params=params, headers=h
        ).json()
        texts += [m["text"] for m in page["items"]]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert texts == ["6", "5", "4", "3", "2", "1", "0"]


def test_quick_replies_crud_and_render(client, tenant) -> None:
    h = tenant["headers"]
    (fan,) = _setup(client, h)
    r = client.post(
        "/api/crm/quick-replies",
        json={
            "title": "Welcome",
            "content": "Hi {firstName} from {city}! {missing}",
            "category": "greet",
        },
        headers=h,
    )
    assert r.status_code == 201
    qr = r.json()
    assert qr["variables"] == ["firstName", "city", "missing"]
    rendered = client.post(
        f"/api/crm/quick-replies/{qr['id']}/render",
        json={"fanId": fan["id"], "default": "friend"},
        headers=h,
    ).json()
    assert rendered == {"text": "Hi Jürgen0 from Oslo! friend"}
    client.post("/api/crm/quick-replies", json={"title": "Alpha", "content": "x"}, headers=h)
    titles = [x["title"] for x in client.get("/api/crm/quick-replies", headers=h).json()["items"]]
    assert titles == ["Alpha", "Welcome"]
    greet = client.get("/api/crm/quick-replies", params={"category": "greet"}, headers=h).json()[
        "items"
    ]
    assert [x["id"] for x in greet] == [qr["id"]]
    p = client.patch(
        f"/api/crm/quick-replies/{qr['id']}", json={"title": "Hello"}, headers=h
    ).json()
    assert p["title"] == "Hello" and p["content"].startswith("Hi {firstName}")
    u = client.put(
        f"/api/crm/quick-replies/{qr['id']}", json={"title": "T", "content": "C"}, headers=h
    ).json()
    assert (u["title"], u["content"], u["category"]) == ("T", "C", None)
    assert (
        client.post(
            "/api/crm/quick-replies", json={"title": "", "content": "x"}, headers=h
        ).status_code
        == 422
    )
    assert client.delete(f"/api/crm/quick-replies/{qr['id']}", headers=h).status_code == 204
    assert client.get(f"/api/crm/quick-replies/{qr['id']}", headers=h).status_code == 404
