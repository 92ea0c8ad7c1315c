"""Sends the inbox's outbound messages through the outbox (wired into the CRM by the app, so
the CRM never imports messaging)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from huntaze.config import Settings
from huntaze.fans.service import get_fan
from huntaze.kit.clock import Clock
from huntaze.kit.crypto import SecretBox
from huntaze.messaging.accounts import resolve_account
from huntaze.messaging.send import queue_message
from huntaze.models.crm import Conversation, Message
from huntaze.outbox.metrics import Metrics


class ConversationSender:
    """``send_outbound(session, conversation, message, data) -> outbox id``.

    Raises:
        ApiError: 409 ``no_sending_account``, 409 ``fan_opted_out``, 422 ``no_channel``.
    """

    def __init__(self, settings: Settings, box: SecretBox, clock: Clock, metrics: Metrics) -> None:
        self.settings = settings
        self.box = box
        self.clock = clock
        self.metrics = metrics

    def __call__(self, session: Session, conv: Conversation, message: Message, data: Any) -> str:
        """Queue ``message`` to the conversation's fan on its platform; return the outbox id."""
        now = self.clock.now()
        fan = get_fan(session, conv.creator_id, conv.fan_id)
        account = resolve_account(
            session, conv.creator_id, conv.platform, self.settings, self.box, now
        )
        row = queue_message(
            session,
            account,
            fan,
            message.text,
            now,
            priority=data.priority,
            media_urls=list(message.media),
            price_cents=message.price_cents,
            conversation_id=conv.id,
        )
        self.metrics.queued(conv.platform, 1)
        return row.id
