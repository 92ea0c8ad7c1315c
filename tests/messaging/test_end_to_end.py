"""The issue's "done when": import fans, bulk-message a filtered audience on OnlyFans (through
the relay) and by email, and watch each message's status move to sent."""

from __future__ import annotations

from importlib import resources

from huntaze.outbox.channels import ChannelFactory
from huntaze.outbox.worker import Worker
from huntaze.platforms.email.fake import FakeSmtpServer
from huntaze.platforms.onlyfans.fake import FakeRelay


def test_import_then_bulk_on_onlyfans_and_email_until_sent(client, tenant, engine, clock) -> None:
    h = tenant["headers"]
    ctx = client.app.state.ctx
    samples = resources.files("huntaze.demo") / "samples"
    for name in ("onlyfans_fans.json", "substack_email_list.csv"):
        r = client.post(
            "/api/crm/import", files={"file": (name, (samples / name).read_bytes())}, headers=h
        )
        assert r.status_code == 200 and r.json()["rejected"] == 0
    with (
        FakeRelay("relay-secret") as relay,
        FakeSmtpServer() as smtp,
    ):
        client.post(
            "/api/messaging/accounts",
            json={
                "platform": "onlyfans",
                "name": "of",
                "settings": {"relayUrl": relay.url},
                "secret": "relay-secret",
            },
            headers=h,
        )
        client.post(
            "/api/messaging/accounts",
            json={
                "platform": "email",
                "name": "news",
                "channel": "email",
                "settings": {"smtpUrl": smtp.url, "from": "me@example.com"},
            },
            headers=h,
        )
        of_bulk = client.post(
            "/api/messages/bulk",
            json={
                "recipients": {"filter": {"platform": "onlyfans", "subscriptionStatus": "active"}},
                "template": "Hey {firstName}, new set tonight",
                "platform": "onlyfans",
                "priceCents": 1299,
            },
            headers=h,
        ).json()
        mail_bulk = client.post(
            "/api/messages/bulk",
            json={
                "recipients": {"filter": {"platform": "substack"}},
                "template": "Hello {email}",
                "platform": "email",
                "subject": "News",
            },
            headers=h,
        ).json()
        assert of_bulk["queued"] > 0 and mail_bulk["queued"] > 0
        worker = Worker(
            ctx.outbox,
            ChannelFactory(engine, ctx.settings, ctx.box),
            worker_id="e2e",
            poll_seconds=0,
            observer=ctx.metrics.observe,
        )
        rounds = 0
        while worker.run_once() or client.get("/api/messages/queue", headers=h).json()["items"]:
            clock.advance(60)  # the OnlyFans account sends 10 a minute
            rounds += 1
            assert rounds < 100
        for bulk in (of_bulk, mail_bulk):
            counts = client.get(f"/api/messages/bulk/{bulk['bulkId']}", headers=h).json()["counts"]
            assert counts["sent"] == bulk["queued"] and counts["failed"] == 0
        assert len([r for r in relay.requests if r.status == 200]) == of_bulk["queued"]
        assert {m.rcpt_tos[0] for m in smtp.messages} >= {"amelie.zoe@example.org"}
        assert all(r.payload["priceCents"] == 1299 for r in relay.requests)
    assert 'huntaze_messages_sent_total{platform="onlyfans"}' in client.get("/metrics").text
