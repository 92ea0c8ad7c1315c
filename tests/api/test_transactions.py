"""One transaction per request (docs/architecture.md "How a request flows"): the session
dependency commits once when the route succeeds and rolls everything back when it fails, so
a failed request leaves nothing half-written, as a client reading back would see it."""

from __future__ import annotations

from tests.factories import create_account, create_conversation, create_fan


def _opted_out_conversation(client, h):  # type: ignore[no-untyped-def]
    fan = create_fan(client, h, "t1", consent="opted_out")
    create_account(client, h)
    return create_conversation(client, h, fan["id"])


def test_a_failed_request_keeps_none_of_its_writes(client, tenant) -> None:  # type: ignore[no-untyped-def]
    h = tenant["headers"]
    conv = _opted_out_conversation(client, h)
    # the message row is written first, then queueing it refuses: the whole request fails
    r = client.post(
        f"/api/crm/conversations/{conv['id']}/messages", json={"text": "hello"}, headers=h
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "fan_opted_out"
    thread = client.get(f"/api/crm/conversations/{conv['id']}/messages", headers=h).json()
    assert thread["items"] == []
    after = client.get(f"/api/crm/conversations/{conv['id']}", headers=h).json()
    assert after["lastMessageAt"] is None
    # the same message recorded without sending is kept, once
    kept = client.post(
        f"/api/crm/conversations/{conv['id']}/messages",
        json={"text": "hello", "send": False},
        headers=h,
    )
    assert kept.status_code == 201
    thread = client.get(f"/api/crm/conversations/{conv['id']}/messages", headers=h).json()
    assert [m["id"] for m in thread["items"]] == [kept.json()["id"]]


def test_a_successful_write_is_committed_before_the_answer(client, tenant) -> None:  # type: ignore[no-untyped-def]
    h = tenant["headers"]
    created = client.post(
        "/api/crm/fans", json={"platform": "onlyfans", "platformFanId": "t2"}, headers=h
    )
    assert created.status_code == 201
    # a second request (another session, another connection) sees it at once
    again = client.post(
        "/api/crm/fans", json={"platform": "onlyfans", "platformFanId": "t2"}, headers=h
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "fan_exists"
    assert client.get(f"/api/crm/fans/{created.json()['id']}", headers=h).status_code == 200


def test_a_commit_that_fails_answers_an_error_not_a_success(client, tenant) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import event

    h = tenant["headers"]
    # the token's first use records it (a commit of its own): done now, so the only commit
    # in the request below is the session dependency's
    assert client.get("/api/me", headers=h).status_code == 200
    factory = client.app.state.ctx.sessions

    def refuse(session):  # type: ignore[no-untyped-def]
        raise RuntimeError("the database refused the commit")

    event.listen(factory, "before_commit", refuse)
    try:
        r = client.post(
            "/api/crm/fans", json={"platform": "onlyfans", "platformFanId": "t3"}, headers=h
        )
    finally:
        event.remove(factory, "before_commit", refuse)
    # the route had returned its fan; the answer waits for the commit, and reports it failed
    assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error"
    listed = client.get("/api/crm/fans", params={"q": "t3"}, headers=h).json()["items"]
    assert [f for f in listed if f["platformFanId"] == "t3"] == []
