"""The inbox's named errors (docs/inbox.md)."""

from __future__ import annotations

from huntaze.kit.errors import NotFound


class ConversationNotFound(NotFound):
    """404 ``conversation_not_found``."""

    error_code = "conversation_not_found"
    default_message = "Conversation not found"


class InboxMessageNotFound(NotFound):
    """404 ``inbox_message_not_found``: no inbox message (``cmsg_…``) with this id. An outbox
    message (``msg_…``) is another entity, with its own code (``message_not_found``)."""

    error_code = "inbox_message_not_found"
    default_message = "Inbox message not found"


class QuickReplyNotFound(NotFound):
    """404 ``quick_reply_not_found``."""

    error_code = "quick_reply_not_found"
    default_message = "Quick reply not found"
