"""A delivery estimate past year 9999 is no estimate, not a 500."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.messaging.test_estimates import _account, _fans, _send


def test_a_queue_whose_turn_falls_after_year_9999_answers_without_a_time(
    client, tenant, sessions, clock
) -> None:
    clock.set(datetime(9999, 12, 29, tzinfo=UTC))
    recipients = _fans(sessions, tenant["creator_id"], clock, 4)
    _account(client, tenant, "http://127.0.0.1:9/relay", sendLimits="1/day")
    sent = [_send(client, tenant, r) for r in recipients]
    assert sent[0]["estimatedDelivery"].startswith("9999-12-29")
    last = sent[-1]
    assert last["estimatedDelivery"] is None
    assert last["delayReason"] == "beyond_calendar"
    status = client.get(f"/api/messages/{last['messageId']}", headers=tenant["headers"])
    assert status.status_code == 200, status.text
    assert status.json()["delayReason"] == "beyond_calendar"
