"""Conversations, messages, unread counts and quick replies."""

from __future__ import annotations

from tests.factories import create_conversation, create_inbox_message


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


def _three_conversations(client, h, clock):  # type: ignore[no-untyped-def]
    """Fans a, b, c with a conversation each: a has two outbound messages, b two inbound
    (unread), c one PPV; one minute apart. Returns (fans, conversation ids by fan id,
    b's first message)."""
    a, b, c = _setup(client, h, 3)
    convs = {f["id"]: create_conversation(client, h, f["id"])["id"] for f in (a, b, c)}

    def post(fan, **body):  # type: ignore[no-untyped-def]
        clock.advance(60)
        return create_inbox_message(client, h, convs[fan["id"]], **body)

    post(a, direction="outbound", text="hello")
    first = post(b, direction="inbound", text="hi there")
    post(b, direction="inbound", text="you there?", mediaUrls=["https://cdn.example.com/1.jpg"])
    post(c, direction="outbound", text="unlock me", priceCents=1500, purchased=True)
    post(a, direction="outbound", text="later")
    return (a, b, c), convs, first


def test_opening_an_open_conversation_answers_it_again(client, tenant) -> None:
    h = tenant["headers"]
    (fan,) = _setup(client, h)
    first = client.post("/api/crm/conversations", json={"fanId": fan["id"]}, headers=h)
    again = client.post("/api/crm/conversations", json={"fanId": fan["id"]}, headers=h)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]


def test_conversations_list_unread_first_then_newest(client, tenant, clock) -> None:
    h = tenant["headers"]
    (a, b, c), _, _ = _three_conversations(client, h, clock)
    assert client.get("/api/crm/messages/unread-count", headers=h).json() == {"unreadCount": 2}
    listed = client.get("/api/crm/conversations", headers=h).json()["items"]
    # unread first (b), then by last message time: a (newest), c
    assert [x["fanId"] for x in listed] == [b["id"], a["id"], c["id"]]
    assert listed[0]["unreadCount"] == 2


def test_a_thread_is_newest_first_with_its_media_and_prices(client, tenant, clock) -> None:
    h = tenant["headers"]
    (_, b, c), convs, _ = _three_conversations(client, h, clock)
    url = f"/api/crm/conversations/{convs[b['id']]}/messages"
    msgs = client.get(url, headers=h).json()["items"]
    assert [m["text"] for m in msgs] == ["you there?", "hi there"]
    assert msgs[0]["mediaUrls"] == ["https://cdn.example.com/1.jpg"]
    url = f"/api/crm/conversations/{convs[c['id']]}/messages"
    (ppv,) = client.get(url, headers=h).json()["items"]
    assert ppv["priceCents"] == 1500 and ppv["purchased"] is True


def test_marking_read_counts_down_once(client, tenant, clock) -> None:
    h = tenant["headers"]
    (_, b, _), convs, first = _three_conversations(client, h, clock)
    r = client.post(f"/api/crm/messages/{first['id']}/read", headers=h)
    assert r.json() == {"marked": 1}
    assert client.post(f"/api/crm/messages/{first['id']}/read", headers=h).json() == {"marked": 0}
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
