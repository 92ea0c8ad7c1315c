"""A campaign's A/B test: deterministic assignment (the same hash in Python, SQLite and
PostgreSQL), results from delivered messages and the purchases that followed, a winner only
when the analysis names one, and the winner sent to the rest."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select, update

from huntaze.db.engine import bucket_of
from huntaze.models.crm import Fan, Purchase
from huntaze.models.messaging import OutboxMessage
from tests.campaigns.conftest import campaign_body
from tests.factories import fan_values, purchase_values

AB = {
    "variants": [
        {"name": "A", "content": {"default": {"text": "A {username}"}}},
        {"name": "B", "weight": 1, "content": {"default": {"text": "B {username}"}}},
    ]
}


def _bucket(test: dict[str, Any], fan_id: str) -> int:
    value = bucket_of(f"{test['id']}:{fan_id}")
    assert value is not None
    return value


def _campaign_with_test(client, headers, **test: Any) -> tuple[dict[str, Any], dict[str, Any]]:  # type: ignore[no-untyped-def]
    camp = client.post(
        "/api/campaigns", json=campaign_body(platforms=["onlyfans"]), headers=headers
    )
    assert camp.status_code == 201, camp.text
    r = client.post(
        f"/api/campaigns/{camp.json()['id']}/ab-test", json={**AB, **test}, headers=headers
    )
    assert r.status_code == 200, r.text
    return camp.json(), r.json()


def _rows(sessions, campaign_id: str) -> list[Any]:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return list(
            s.execute(
                select(OutboxMessage.fan_id, OutboxMessage.variant_id, OutboxMessage.content).where(
                    OutboxMessage.campaign_id == campaign_id
                )
            )
        )


def test_each_fan_gets_the_variant_its_hash_names(client, audience, relay, drain, sessions) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    camp, test = _campaign_with_test(client, h)
    launched = client.post(f"/api/campaigns/{camp['id']}/start", headers=h).json()["launch"]
    assert launched["queued"] == 6
    a, b = test["variants"]
    for fan_id, variant_id, content in _rows(sessions, camp["id"]):
        bucket = _bucket(test, fan_id)
        assert variant_id == (a["id"] if bucket < 2**31 else b["id"])
        assert content.startswith("A " if variant_id == a["id"] else "B ")
    drain()
    sent = sorted(r.payload["content"][0] for r in relay.requests if r.status == 200)
    by_variant = sorted("A" if v == a["id"] else "B" for _, v, _ in _rows(sessions, camp["id"]))
    assert sent == by_variant


def test_results_count_deliveries_and_the_purchases_that_followed(  # type: ignore[no-untyped-def]
    client, audience, relay, drain, sessions, clock
) -> None:
    h = audience["headers"]
    camp, test = _campaign_with_test(client, h, attributionDays=7)
    client.post(f"/api/campaigns/{camp['id']}/start", headers=h)
    drain()
    rows = _rows(sessions, camp["id"])
    names = {v["id"]: v["name"] for v in test["variants"]}
    fans = {fan: names[variant] for fan, variant, _ in rows}
    buyer, late = sorted(fans)[:2]
    now = clock.now()
    with sessions() as s, s.begin():
        s.execute(
            insert(Purchase),
            [
                purchase_values(audience["creator_id"], buyer, "ab1", 500, now + timedelta(days=1)),
                purchase_values(audience["creator_id"], buyer, "ab2", 300, now + timedelta(days=2)),
                purchase_values(audience["creator_id"], late, "ab3", 900, now + timedelta(days=9)),
            ],
        )
    got = client.get(f"/api/campaigns/{camp['id']}/ab-test", headers=h).json()
    users = {v["name"]: v["users"] for v in got["results"]["variants"]}
    conversions = {v["name"]: v["conversions"] for v in got["results"]["variants"]}
    assert sum(users.values()) == 6
    assert users == {name: list(fans.values()).count(name) for name in ("A", "B")}
    assert conversions[fans[buyer]] >= 1 and sum(conversions.values()) == 1
    assert got["revenueCents"][fans[buyer]] == 800
    assert got["results"]["winner"] is None and got["results"]["reason"] == "samples_too_small"
    r = client.post(f"/api/campaigns/{camp['id']}/ab-test/apply-winner", headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "no_winner"
    assert r.json()["error"]["details"][0]["reason"] == "samples_too_small"


def test_the_rest_waits_for_the_winner_and_then_gets_it(
    client, audience, relay, drain, sessions
) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    camp, test = _campaign_with_test(client, h, testShare=0.5)
    launched = client.post(f"/api/campaigns/{camp['id']}/start", headers=h).json()["launch"]
    waiting = launched["skipped"]["awaitingWinner"]
    assert launched["queued"] + waiting == 6
    expected_waiting = sum(
        _bucket(test, fan_id) >= 2**31
        for fan_id in audience["ids"].values()
        if not fan_id.endswith("fansly")
    )
    assert waiting == expected_waiting
    b = test["variants"][1]
    r = client.post(
        f"/api/campaigns/{camp['id']}/ab-test/apply-winner", json={"variantId": b["id"]}, headers=h
    )
    assert r.status_code == 200, r.text
    assert r.json()["launch"]["queued"] == waiting
    assert r.json()["launch"]["skipped"]["alreadyMessaged"] == launched["queued"]
    drain()
    assert len([r for r in relay.requests if r.status == 200]) == 6
    again = client.post(f"/api/campaigns/{camp['id']}/ab-test/apply-winner", headers=h)
    assert again.status_code == 409
    got = client.get(f"/api/campaigns/{camp['id']}/ab-test", headers=h).json()
    assert got["status"] == "applied" and got["winnerVariantId"] == b["id"]


def test_a_clear_difference_is_named_and_applied(client, audience, relay, sessions, clock) -> None:  # type: ignore[no-untyped-def]
    """6,000 fans, delivery marked done in the database: the fans of B buy twice as often."""
    h = audience["headers"]
    cid = audience["creator_id"]
    now = clock.now()
    with sessions() as s, s.begin():
        s.execute(insert(Fan), [fan_values(cid, f"x{i}", now) for i in range(6000)])
    camp, test = _campaign_with_test(client, h, testShare=0.9)
    client.post(f"/api/campaigns/{camp['id']}/start", headers=h)
    b_id = test["variants"][1]["id"]
    with sessions() as s, s.begin():
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.campaign_id == camp["id"])
            .values(status="sent", sent_at=now)
        )
        rows = s.execute(
            select(OutboxMessage.fan_id, OutboxMessage.variant_id).where(
                OutboxMessage.campaign_id == camp["id"]
            )
        ).all()
        purchases = [
            purchase_values(cid, fan_id, f"t{i}", 1000, now + timedelta(hours=5))
            for i, (fan_id, variant) in enumerate(rows)
            if i % (10 if variant == b_id else 20) == 0
        ]
        s.execute(insert(Purchase), purchases)
    got = client.get(f"/api/campaigns/{camp['id']}/ab-test", headers=h).json()
    assert got["results"]["winner"] == "B", got["results"]
    assert got["results"]["srm"]["mismatch"] is False
    r = client.post(f"/api/campaigns/{camp['id']}/ab-test/apply-winner", headers=h)
    assert r.status_code == 200 and r.json()["winnerVariantId"] == b_id
    assert r.json()["launch"]["queued"] > 400  # the tenth of the audience that waited


def test_a_launched_campaigns_test_cannot_change(client, audience, relay) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    camp, _ = _campaign_with_test(client, h)
    client.post(f"/api/campaigns/{camp['id']}/start", headers=h)
    r = client.post(f"/api/campaigns/{camp['id']}/ab-test", json=AB, headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "campaign_not_editable"
    draft, _ = _campaign_with_test(client, h)
    r = client.post(f"/api/campaigns/{draft['id']}/ab-test/apply-winner", headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_transition"
    assert r.json()["error"]["details"][0]["action"] == "apply-winner"
    plain = client.post("/api/campaigns", json=campaign_body(), headers=h).json()
    r = client.get(f"/api/campaigns/{plain['id']}/ab-test", headers=h)
    assert r.status_code == 404 and r.json()["error"]["code"] == "ab_test_not_found"
