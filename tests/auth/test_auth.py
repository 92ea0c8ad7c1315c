"""Tokens are hashed, roles bound what a user may do, and creators are chosen by header."""

from __future__ import annotations

from sqlalchemy import event, select

from huntaze.auth.tokens import create_token_for, hash_token, revoke_token
from huntaze.models.tenancy import ApiToken


def test_token_is_stored_hashed(make_tenant, sessions) -> None:
    t = make_tenant()
    with sessions() as s:
        rows = s.scalars(select(ApiToken.token_hash)).all()
    assert hash_token(t["token"]) in rows
    assert t["token"] not in rows


def test_missing_bad_and_revoked_tokens_answer_401(client, tenant, sessions, clock) -> None:
    assert client.get("/api/crm/fans").status_code == 401
    r = client.get("/api/crm/fans", headers={"Authorization": "Bearer hz_wrong"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthenticated"
    assert client.get("/api/crm/fans", headers=tenant["headers"]).status_code == 200
    with sessions() as s:
        tok = s.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(tenant["token"])))
        assert revoke_token(s, tok.id, clock.now())
        s.commit()
    assert client.get("/api/crm/fans", headers=tenant["headers"]).status_code == 401


def test_last_use_is_recorded(client, tenant, sessions, clock) -> None:
    client.get("/api/me", headers=tenant["headers"])
    with sessions() as s:
        tok = s.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(tenant["token"])))
    assert tok.last_used_at == clock.now()


def test_first_use_survives_a_write_committed_between_read_and_record(
    client, engine, make_tenant, sessions, clock
) -> None:
    """The last-use write must not upgrade the request's read transaction: on SQLite that
    fails at once ("database is locked") when a worker commits in between."""
    tenant = make_tenant()
    fired: list[str] = []

    def commit_elsewhere(conn, cursor, statement, *_args) -> None:
        if "memberships" in statement and not fired:
            fired.append(statement)
            make_tenant()  # another connection commits while the request holds its snapshot

    event.listen(engine, "after_cursor_execute", commit_elsewhere)
    try:
        r = client.get("/api/me", headers=tenant["headers"])
    finally:
        event.remove(engine, "after_cursor_execute", commit_elsewhere)
    assert fired, "the interleaving did not happen"
    assert r.status_code == 200, r.text
    with sessions() as s:
        tok = s.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(tenant["token"])))
    assert tok.last_used_at == clock.now()


def test_roles(client, make_tenant, sessions, clock) -> None:
    owner = make_tenant()
    fan = client.post(
        "/api/crm/fans",
        json={"platform": "onlyfans", "platformFanId": "1"},
        headers=owner["headers"],
    ).json()
    conv = client.post(
        "/api/crm/conversations", json={"fanId": fan["id"]}, headers=owner["headers"]
    ).json()
    tokens = {}
    for role in ("analyst", "chatter", "manager"):
        with sessions() as s:
            tokens[role] = {
                "Authorization": "Bearer "
                + create_token_for(s, owner["handle"], clock.now(), role=role).secret
            }
            s.commit()
    new_fan = {"platform": "onlyfans", "platformFanId": "2"}
    msg = {"direction": "outbound", "text": "hi"}
    # analysts read only
    assert client.get("/api/crm/fans", headers=tokens["analyst"]).status_code == 200
    r = client.post("/api/crm/fans", json=new_fan, headers=tokens["analyst"])
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = client.post(
        f"/api/crm/conversations/{conv['id']}/messages", json=msg, headers=tokens["analyst"]
    )
    assert r.status_code == 403
    # chatters read fans and write messages, but do not edit fans
    assert client.get(f"/api/crm/fans/{fan['id']}", headers=tokens["chatter"]).status_code == 200
    r = client.post(
        f"/api/crm/conversations/{conv['id']}/messages", json=msg, headers=tokens["chatter"]
    )
    assert r.status_code == 201
    assert client.post("/api/crm/fans", json=new_fan, headers=tokens["chatter"]).status_code == 403
    assert client.delete(f"/api/crm/fans/{fan['id']}", headers=tokens["chatter"]).status_code == 403
    # managers do everything
    assert client.post("/api/crm/fans", json=new_fan, headers=tokens["manager"]).status_code == 201
    me = client.get("/api/me", headers=tokens["chatter"]).json()
    assert me["role"] == "chatter" and me["creatorId"] == owner["creator_id"]


def test_creator_header_selects_among_memberships(client, make_tenant, sessions, clock) -> None:
    a = make_tenant()
    b = make_tenant()
    # the agency user behind a's token also gets a role on b
    with sessions() as s:
        issued = create_token_for(
            s, b["handle"], clock.now(), role="manager", email=f"owner@{a['handle']}.local"
        )
        s.commit()
    agency = {"Authorization": f"Bearer {issued.secret}"}
    me_default = client.get("/api/me", headers=agency).json()
    assert me_default["creatorId"] == b["creator_id"]
    me_a = client.get("/api/me", headers={**agency, "X-Huntaze-Creator": a["handle"]}).json()
    assert me_a["creatorId"] == a["creator_id"] and me_a["role"] == "owner"
    stranger = make_tenant()
    r = client.get("/api/me", headers={**agency, "X-Huntaze-Creator": stranger["creator_id"]})
    assert r.status_code == 404


def test_health_and_request_id(client) -> None:
    r = client.get("/api/health", headers={"X-Request-ID": "abc123"})
    assert r.json()["status"] == "ok" and r.json()["database"] == "ok"
    assert r.headers["X-Request-ID"] == "abc123"
    assert len(client.get("/api/health").headers["X-Request-ID"]) == 32
    assert "/api/crm/fans" in client.get("/openapi.json").json()["paths"]
    assert client.get("/docs").status_code == 200
