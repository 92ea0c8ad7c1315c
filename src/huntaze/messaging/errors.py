"""The messaging domain's named errors (docs/messaging.md)."""

from __future__ import annotations

from huntaze.kit.errors import Conflict, NotFound


class MessageNotFound(NotFound):
    """404 ``message_not_found``: no outbox message (``msg_…``, the seed's ``messageId``)
    with this id. An inbox message has its own code (``inbox_message_not_found``)."""

    error_code = "message_not_found"
    default_message = "Message not found"


class BulkNotFound(NotFound):
    """404 ``bulk_not_found``."""

    error_code = "bulk_not_found"
    default_message = "Bulk not found"


class SendingAccountNotFound(NotFound):
    """404 ``sending_account_not_found``."""

    error_code = "sending_account_not_found"
    default_message = "Sending account not found"


class NotManual(Conflict):
    """409 ``not_manual``: the account's messages are not sent by hand."""

    error_code = "not_manual"
    default_message = "This account is not sent by hand"


class NotHeld(Conflict):
    """409 ``not_held``: the chatter does not hold this message (or the hold expired)."""

    error_code = "not_held"
    default_message = "This message is not held by you (or its hold expired)"
