"""Manual sending, for agencies whose chatters send by hand: a chatter takes messages from a
manual account's queue (held for them, and counted against the account's limit like any
send), sends them on the platform, then reports each one as sent or failed."""

from __future__ import annotations

from typing import Any

from huntaze.outbox.service import Outbox


def worker_name(user_id: str) -> str:
    """The lease owner name of a chatter."""
    return f"user:{user_id}"


def claim_for_chatter(
    outbox: Outbox, account_id: str, user_id: str, limit: int
) -> list[dict[str, Any]]:
    """Hold up to ``limit`` due messages of ``account_id`` for ``user_id``; return them."""
    claimed = outbox.claim_account(account_id, worker_name(user_id), limit)
    until = outbox.clock.now() + outbox.lease
    return [
        {
            "message_id": c.message.message_id,
            "account_id": c.account_id,
            "platform": c.message.platform,
            "fan_id": c.message.fan_id,
            "recipient": c.message.recipient,
            "content": c.message.content,
            "media_urls": list(c.message.media_urls),
            "price_cents": c.message.price_cents,
            "claimed_until": until,
        }
        for c in claimed
    ]


def report(
    outbox: Outbox,
    message_id: str,
    user_id: str,
    status: str,
    external_id: str | None,
    reason: str | None,
) -> bool:
    """Record a chatter's report; False when they do not hold the message (any more)."""
    return outbox.outcomes.finish_manual(
        worker_name(user_id), message_id, status == "sent", external_id, reason
    )
