"""All ORM models; importing this package registers every table on ``Base.metadata``."""

from huntaze.models.campaigns import Campaign, CampaignExperiment, CampaignTemplate
from huntaze.models.crm import Conversation, Fan, FanTag, Message, Purchase, QuickReply
from huntaze.models.events import Event
from huntaze.models.messaging import (
    BulkSend,
    IdempotencyKey,
    OutboxMessage,
    SendAttempt,
    SendingAccount,
)
from huntaze.models.segments import FanTierRules, Segment, SegmentMember
from huntaze.models.tenancy import ApiToken, Creator, Membership, User
from huntaze.models.tracking import TrackedEvent

__all__ = [
    "ApiToken",
    "BulkSend",
    "Campaign",
    "CampaignExperiment",
    "CampaignTemplate",
    "Conversation",
    "Creator",
    "Event",
    "Fan",
    "FanTag",
    "FanTierRules",
    "IdempotencyKey",
    "Membership",
    "Message",
    "OutboxMessage",
    "Purchase",
    "QuickReply",
    "Segment",
    "SegmentMember",
    "SendAttempt",
    "SendingAccount",
    "TrackedEvent",
    "User",
]
