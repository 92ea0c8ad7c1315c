"""Following a tracked link (``GET /t/{token}``): the click is recorded once per message
and link, and the answer is the link's target (:mod:`huntaze.tracking.links`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from huntaze.db.expressions import sql_for
from huntaze.kit.ids import new_id
from huntaze.models.campaigns import Campaign, CampaignExperiment
from huntaze.models.messaging import OutboxMessage
from huntaze.models.tracking import TrackedEvent
from huntaze.tracking.errors import LinkNotFound
from huntaze.tracking.links import LinkSigner, allows, links_in


def campaign_texts(session: Session, campaign: Campaign) -> list[str]:
    """Every text the campaign sends: its content per platform and its A/B variants'."""
    texts = [str(c.get("text", "")) for c in campaign.content.values()]
    for variants in session.scalars(
        select(CampaignExperiment.variants).where(CampaignExperiment.campaign_id == campaign.id)
    ):
        for variant in variants:
            texts += [str(c.get("text", "")) for c in (variant.get("content") or {}).values()]
    return texts


def follow(session: Session, signer: LinkSigner, token: str, now: datetime) -> str:
    """Record the click ``token`` stands for and return its target URL.

    The click is a ``click`` tracked event of the message's fan, campaign and variant at
    ``now`` (UTC), with the external id ``click:<message id>:<link index>``: a fan's second
    click on the same link changes nothing, so clicks count unique clickers per link.

    Raises:
        LinkNotFound: 404 when the token does not open, its message is gone or not a
            campaign's, or the link is not one the campaign's content names.
    """
    opened = signer.open(token)
    if opened is None:
        raise LinkNotFound
    message_id, index = opened
    message = session.get(OutboxMessage, message_id)
    if message is None or message.campaign_id is None:
        raise LinkNotFound
    links = links_in(message.content)
    campaign = session.get(Campaign, message.campaign_id)
    if index >= len(links) or campaign is None or campaign.creator_id != message.creator_id:
        raise LinkNotFound
    target = links[index]
    if not allows(campaign_texts(session, campaign), target):
        raise LinkNotFound
    session.execute(
        sql_for(session).insert_ignoring_conflicts(TrackedEvent),
        [
            {
                "id": new_id("trk"),
                "creator_id": message.creator_id,
                "kind": "click",
                "purchase_kind": None,
                "fan_id": message.fan_id,
                "campaign_id": message.campaign_id,
                "variant_id": message.variant_id,
                "value_cents": None,
                "currency": None,
                "occurred_at": now,
                "external_id": f"click:{message_id}:{index}",
                "received_at": now,
            }
        ],
    )
    return target
