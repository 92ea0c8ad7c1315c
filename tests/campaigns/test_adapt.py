"""Content adapted per platform: SFW platforms never get content marked nsfw, a text past a
platform's limit is refused or cut, and a PPV price reaches only platforms that sell."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from huntaze.campaigns.adapt import for_platform
from huntaze.messaging.fanout import insert_personalised
from huntaze.models.crm import Fan
from huntaze.models.messaging import OutboxMessage, SendingAccount


def _post(client: Any, h: dict[str, str], **body: Any) -> Any:
    base = {"name": "Adapt", "platforms": ["onlyfans", "instagram"]}
    return client.post("/api/campaigns", json={**base, **body}, headers=h)


def test_nsfw_content_never_goes_to_an_sfw_platform(client, audience) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    spicy = {"text": "Unlock my newest set, {firstName}", "priceCents": 999, "nsfw": True}
    r = _post(client, h, content={"default": spicy})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "unsuitable_content"
    assert [d["field"] for d in r.json()["error"]["details"]] == ["content.instagram"]
    # with SFW content of its own, Instagram is fine and OnlyFans keeps the spicy default
    r = _post(client, h, content={"default": spicy, "instagram": {"text": "New posts are up!"}})
    assert r.status_code == 201, r.text
    # seed 000's smart templates carry an SFW text for Instagram; the adult niche's do not
    ok = {"templateId": "smart_win_back", "platforms": ["onlyfans", "instagram"]}
    assert client.post("/api/campaigns/from-template", json=ok, headers=h).status_code == 201
    adult = {"templateId": "adult_custom_content_offer", "platforms": ["instagram"]}
    r = client.post("/api/campaigns/from-template", json=adult, headers=h)
    assert r.status_code == 422 and r.json()["error"]["code"] == "unsuitable_content"
    variants = {"variants": [{"name": "A"}, {"name": "B", "content": {"default": spicy}}]}
    camp = _post(client, h, content={"default": {"text": "hi"}}).json()
    r = client.post(f"/api/campaigns/{camp['id']}/ab-test", json=variants, headers=h)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"][0]["field"] == "variants[1].content.instagram"


def test_a_text_past_a_platforms_limit_is_refused_where_written(client, audience) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    long = {"text": "é" * 600 + " {username}"}  # 600 characters, 1,200 UTF-8 bytes
    r = _post(client, h, content={"default": long})
    assert r.status_code == 422
    assert r.json()["error"]["details"] == [
        {"field": "content.default.text", "message": "longer than instagram's 1,000 bytes"}
    ]
    assert _post(client, h, platforms=["onlyfans"], content={"default": long}).status_code == 201


def test_the_ppv_price_reaches_only_platforms_that_sell(client, audience, relay, drain) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    paid = {"text": "A set for you", "priceCents": 1299}
    camp = _post(client, h, platforms=["onlyfans"], content={"default": paid}).json()
    client.post(f"/api/campaigns/{camp['id']}/start", headers=h)
    drain()
    prices = {req.payload["priceCents"] for req in relay.requests if req.status == 200}
    assert prices == {1299}
    assert for_platform({"default": paid}, "email") == {"text": "A set for you"}
    assert for_platform({"default": paid}, "fansly") == paid


def test_a_personalised_text_past_a_limit_in_characters_is_cut(  # type: ignore[no-untyped-def]
    audience, relay, sessions, clock
) -> None:
    with sessions() as s, s.begin():
        account = s.scalar(
            select(SendingAccount).where(SendingAccount.creator_id == audience["creator_id"])
        )
        assert account is not None
        queued = insert_personalised(
            s,
            account,
            clock.now(),
            [Fan.id.in_([audience["ids"]["whale"], audience["ids"]["nudge"]])],
            template="Hello {displayName}!",
            key_prefix="cut",
            max_chars=12,
        )
    assert queued == 2
    with sessions() as s:
        texts = sorted(
            s.scalars(
                select(OutboxMessage.content).where(OutboxMessage.idempotency_key.like("cut:%"))
            )
        )
    # "Hello Big Whale!" (16 characters) and "Hello unudge!" (13): 11 and an ellipsis
    assert texts == ["Hello Big W…", "Hello unudg…"]
