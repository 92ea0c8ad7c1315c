"""A bulk send to a filter reaches exactly the fans the fan list shows for that filter: both
compile through the one criteria compiler. Counted at the relay fake, where the platform
would see the messages."""

from __future__ import annotations

from huntaze.outbox.channels import ChannelFactory
from huntaze.outbox.worker import Worker
from huntaze.platforms.onlyfans.fake import FakeRelay
from tests.factories import create_account, create_fan
from tests.fans.test_one_compiler import FANS


def test_a_bulk_to_a_filter_reaches_the_listed_fans_at_the_relay(client, tenant, engine, clock):  # type: ignore[no-untyped-def]
    h = tenant["headers"]
    for key, extra in FANS:
        create_fan(client, h, key, **extra)
    flt = {"q": "anna", "platform": "onlyfans"}
    listed = client.get("/api/crm/fans", params=flt, headers=h).json()["items"]
    expected = {f["id"] for f in listed}
    assert len(expected) == 4  # Anna_50%, annabel, Joanna, anna50x; not the Fansly fan
    with FakeRelay("relay-secret") as relay:
        create_account(
            client,
            h,
            channel="onlyfans_relay",
            settings={"relayUrl": relay.url},
            secret="relay-secret",
        )
        body = {"recipients": {"filter": flt}, "template": "Hi {firstName}", "platform": "onlyfans"}
        r = client.post("/api/messages/bulk", json=body, headers=h)
        assert r.status_code == 200 and r.json()["queued"] == 4, r.text
        ctx = client.app.state.ctx
        worker = Worker(ctx.outbox, ChannelFactory(engine, ctx.settings, ctx.box), poll_seconds=0)
        for _ in range(5):
            worker.run_once()
            clock.advance(60)
        reached = [req.payload["fanId"] for req in relay.requests if req.status == 200]
    assert sorted(reached) == sorted(expected)
