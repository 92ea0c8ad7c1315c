"""``/api/tokens``: owners list, create and revoke the tokens that can act on their creator.

The secret is in the create response only; a revoked token answers 401 from then on; other
roles get 403 and another creator's token id 404. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from huntaze.auth.tokens import create_token_for, hash_token
from huntaze.models.tenancy import ApiToken, Membership, User


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _ids(page: dict[str, Any]) -> list[str]:
    return [t["id"] for t in page["items"]]


def test_owner_creates_lists_and_revokes_a_token(client, make_tenant) -> None:
    owner = make_tenant()
    created = client.post("/api/tokens", json={"name": "zapier"}, headers=owner["headers"])
    assert created.status_code == 201, created.text
    new = created.json()
    secret = new["token"]
    assert secret.startswith("hz_") and new["prefix"] == secret[:8]
    assert (new["name"], new["role"], new["userEmail"]) == (
        "zapier",
        "owner",
        f"owner@{owner['handle']}.local",
    )
    assert new["revokedAt"] is None and new["previousRole"] is None and not new["current"]
    # the new secret works
    me = client.get("/api/me", headers=_bearer(secret))
    assert me.status_code == 200 and me.json()["creatorId"] == owner["creator_id"]

    listed = client.get("/api/tokens", headers=owner["headers"])
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert len(page["items"]) == 2 and page["nextCursor"] is None
    by_id = {t["id"]: t for t in page["items"]}
    assert by_id[new["id"]]["name"] == "zapier"
    assert [t["current"] for t in page["items"]].count(True) == 1
    # shown once: the list never carries a secret or its hash
    assert secret not in listed.text and hash_token(secret) not in listed.text
    assert owner["token"] not in listed.text and hash_token(owner["token"]) not in listed.text
    assert all("token" not in t and "tokenHash" not in t for t in page["items"])

    revoked = client.delete(f"/api/tokens/{new['id']}", headers=owner["headers"])
    assert revoked.status_code == 204, revoked.text
    r = client.get("/api/me", headers=_bearer(secret))
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
    after = {
        t["id"]: t for t in client.get("/api/tokens", headers=owner["headers"]).json()["items"]
    }
    assert after[new["id"]]["revokedAt"] is not None
    # revoking again changes nothing
    first_revoked_at = after[new["id"]]["revokedAt"]
    assert client.delete(f"/api/tokens/{new['id']}", headers=owner["headers"]).status_code == 204
    again = {
        t["id"]: t for t in client.get("/api/tokens", headers=owner["headers"]).json()["items"]
    }
    assert again[new["id"]]["revokedAt"] == first_revoked_at
    # the owner's own token still works
    assert client.get("/api/me", headers=owner["headers"]).status_code == 200


def test_an_owner_may_revoke_the_token_in_hand(client, make_tenant) -> None:
    owner = make_tenant()
    spare = client.post("/api/tokens", json={}, headers=owner["headers"]).json()
    me = next(
        t
        for t in client.get("/api/tokens", headers=owner["headers"]).json()["items"]
        if t["current"]
    )
    assert client.delete(f"/api/tokens/{me['id']}", headers=owner["headers"]).status_code == 204
    assert client.get("/api/tokens", headers=owner["headers"]).status_code == 401
    assert client.get("/api/tokens", headers=_bearer(spare["token"])).status_code == 200


def test_only_owners_manage_tokens(client, make_tenant, sessions, clock) -> None:
    owner = make_tenant()
    target = client.post("/api/tokens", json={}, headers=owner["headers"]).json()
    for role in ("manager", "chatter", "analyst"):
        with sessions() as s:
            secret = create_token_for(s, owner["handle"], clock.now(), role=role).secret
            s.commit()
        h = _bearer(secret)
        for method, url, body in (
            ("GET", "/api/tokens", None),
            ("POST", "/api/tokens", {}),
            ("DELETE", f"/api/tokens/{target['id']}", None),
        ):
            r = client.request(method, url, json=body, headers=h)
            assert r.status_code == 403, (role, method, r.text)
            assert r.json()["error"]["code"] == "forbidden"
    # nothing was created or revoked by the refused calls
    items = client.get("/api/tokens", headers=owner["headers"]).json()["items"]
    assert len(items) == 5
    assert all(t["revokedAt"] is None for t in items)
    assert client.get("/api/tokens").status_code == 401


def test_another_creators_token_answers_404(client, make_tenant) -> None:
    victim = make_tenant()
    attacker = make_tenant()
    victims = client.get("/api/tokens", headers=victim["headers"]).json()["items"]
    r = client.delete(f"/api/tokens/{victims[0]['id']}", headers=attacker["headers"])
    assert r.status_code == 404 and r.json()["error"]["code"] == "token_not_found"
    r = client.delete("/api/tokens/tok_does_not_exist", headers=attacker["headers"])
    assert r.status_code == 404
    assert client.get("/api/me", headers=victim["headers"]).status_code == 200
    theirs = _ids(client.get("/api/tokens", headers=attacker["headers"]).json())
    assert victims[0]["id"] not in theirs and len(theirs) == 1


def test_tokens_of_members_are_listed_with_their_role(client, make_tenant) -> None:
    owner = make_tenant()
    chatter = client.post(
        "/api/tokens",
        json={"email": "Chatter@Example.test", "role": "chatter", "name": "night shift"},
        headers=owner["headers"],
    )
    assert chatter.status_code == 201, chatter.text
    body = chatter.json()
    assert (body["userEmail"], body["role"]) == ("chatter@example.test", "chatter")
    me = client.get("/api/me", headers=_bearer(body["token"])).json()
    assert me["role"] == "chatter" and me["creatorId"] == owner["creator_id"]
    listed = client.get("/api/tokens", headers=owner["headers"]).json()["items"]
    assert {(t["userEmail"], t["role"]) for t in listed} == {
        (f"owner@{owner['handle']}.local", "owner"),
        ("chatter@example.test", "chatter"),
    }
    # a second token for the member keeps their role when none is given
    second = client.post(
        "/api/tokens", json={"email": "chatter@example.test"}, headers=owner["headers"]
    )
    assert second.status_code == 201 and second.json()["role"] == "chatter"


def test_a_role_change_must_be_asked_for(client, make_tenant) -> None:
    owner = make_tenant()
    first = client.post(
        "/api/tokens",
        json={"email": "sam@example.test", "role": "chatter"},
        headers=owner["headers"],
    ).json()
    refused = client.post(
        "/api/tokens",
        json={"email": "sam@example.test", "role": "manager"},
        headers=owner["headers"],
    )
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "role_change_required"
    assert error["details"][0]["field"] == "role"
    assert (error["details"][0]["currentRole"], error["details"][0]["requestedRole"]) == (
        "chatter",
        "manager",
    )
    # nothing changed, nothing was created
    assert client.get("/api/me", headers=_bearer(first["token"])).json()["role"] == "chatter"
    assert len(client.get("/api/tokens", headers=owner["headers"]).json()["items"]) == 2

    changed = client.post(
        "/api/tokens",
        json={"email": "sam@example.test", "role": "manager", "changeRole": True},
        headers=owner["headers"],
    )
    assert changed.status_code == 201, changed.text
    assert (changed.json()["role"], changed.json()["previousRole"]) == ("manager", "chatter")
    # the role is the user's: their first token now acts as a manager too
    assert client.get("/api/me", headers=_bearer(first["token"])).json()["role"] == "manager"


def test_the_last_owner_cannot_step_down(client, make_tenant) -> None:
    owner = make_tenant()
    r = client.post(
        "/api/tokens", json={"role": "analyst", "changeRole": True}, headers=owner["headers"]
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "last_owner"
    assert client.get("/api/me", headers=owner["headers"]).json()["role"] == "owner"


def test_a_new_member_needs_a_role(client, make_tenant, sessions) -> None:
    owner = make_tenant()
    r = client.post("/api/tokens", json={"email": "new@example.test"}, headers=owner["headers"])
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "role_required"
    assert r.json()["error"]["details"][0]["field"] == "role"
    with sessions() as s:  # a request that answers an error commits nothing
        assert s.scalar(select(User).where(User.email == "new@example.test")) is None


def test_no_token_for_a_user_who_works_for_another_creator(client, make_tenant, sessions) -> None:
    """A token acts on every creator its user has a role on: an owner minting one for another
    creator's member would get into that creator."""
    victim = make_tenant()
    attacker = make_tenant()
    victim_email = f"owner@{victim['handle']}.local"
    r = client.post(
        "/api/tokens",
        json={"email": victim_email, "role": "analyst"},
        headers=attacker["headers"],
    )
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "user_works_elsewhere"
    with sessions() as s:
        user = s.scalar(select(User).where(User.email == victim_email))
        roles = s.scalars(select(Membership.creator_id).where(Membership.user_id == user.id))
        assert list(roles) == [victim["creator_id"]]
        assert len(s.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).all()) == 1


def test_bad_bodies_answer_422(client, make_tenant) -> None:
    owner = make_tenant()
    for body, field in (
        ({"role": "admin"}, "role"),
        ({"email": "not an email"}, "email"),
        ({"email": "a@b.test\r\nBcc: x@y.test", "role": "chatter"}, "email"),
        ({"name": "x" * 256}, "name"),
        ({"name": "nul\u0000"}, "name"),
        ({"changeRole": "sometimes"}, "changeRole"),
        ({"tokenHash": "abc"}, "tokenHash"),
    ):
        r = client.post("/api/tokens", json=body, headers=owner["headers"])
        assert r.status_code == 422, (body, r.text)
        assert field in str(r.json()["error"]["details"]), (body, r.text)
    assert len(client.get("/api/tokens", headers=owner["headers"]).json()["items"]) == 1


def test_tokens_are_paged_newest_first(client, make_tenant, clock) -> None:
    owner = make_tenant()
    made = []
    for n in range(4):
        clock.advance(60)
        made.append(
            client.post("/api/tokens", json={"name": f"t{n}"}, headers=owner["headers"]).json()
        )
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/tokens", params=params, headers=owner["headers"]).json()
        seen += _ids(page)
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen[:4] == [t["id"] for t in reversed(made)]
    assert len(seen) == 5 == len(set(seen))
    r = client.get("/api/tokens", params={"cursor": "nope"}, headers=owner["headers"])
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_cursor"
