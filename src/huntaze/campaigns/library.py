"""Campaign templates: the built-in ones (:mod:`.templates`) and those a creator saved; a
campaign made from one, a campaign saved as one, and how each performed."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from huntaze.campaigns.attribution import DEFAULT_DAYS, attributed
from huntaze.campaigns.errors import TemplateNotFound
from huntaze.campaigns.schemas import (
    CampaignIn,
    ContentIn,
    FromTemplateIn,
    SaveTemplateIn,
    TemplateList,
    TemplateOut,
)
from huntaze.campaigns.service import create_campaign, get_campaign
from huntaze.campaigns.templates import BUILT_IN, Template
from huntaze.kit.ids import new_id
from huntaze.models.campaigns import Campaign, CampaignTemplate

#: Where a built-in template whose content is for every platform sends by default.
DEFAULT_PLATFORMS = ["onlyfans"]


def _platforms(content: dict[str, object]) -> list[str]:
    named = [p for p in content if p != "default"]
    return named or list(DEFAULT_PLATFORMS)


def _performance(session: Session, creator_id: str) -> dict[str, tuple[int, float | None]]:
    """Per template id: the creator's campaigns made from it, and their average conversion
    rate (over campaigns that delivered anything)."""
    campaigns: dict[str, list[str]] = defaultdict(list)
    for template_id, campaign_id in session.execute(
        select(Campaign.template_id, Campaign.id).where(
            Campaign.creator_id == creator_id, Campaign.template_id.is_not(None)
        )
    ):
        campaigns[str(template_id)].append(campaign_id)
    out: dict[str, tuple[int, float | None]] = {}
    for template_id, ids in campaigns.items():
        rates = []
        for campaign_id in ids:
            m = attributed(session, campaign_id, DEFAULT_DAYS, "all").get(campaign_id)
            if m is not None and m.delivered:
                rates.append(m.converted / m.delivered)
        out[template_id] = (len(ids), sum(rates) / len(rates) if rates else None)
    return out


def _built_in(t: Template, perf: tuple[int, float | None]) -> TemplateOut:
    return TemplateOut(
        id=t.id,
        name=t.name,
        description=t.description,
        niche=t.niche,
        type=t.type,
        platforms=_platforms(dict(t.content)),
        content=t.content,
        goals=t.goals,
        audience=t.audience,
        built_in=True,
        usage_count=perf[0],
        avg_performance=perf[1],
    )


def _saved(t: CampaignTemplate, perf: tuple[int, float | None]) -> TemplateOut:
    return TemplateOut(
        id=t.id,
        name=t.name,
        description=t.description,
        niche=t.niche,
        type=t.type,
        platforms=t.platforms,
        content=t.content,
        goals=t.goals,
        audience=None,
        built_in=False,
        usage_count=perf[0],
        avg_performance=perf[1],
    )


def list_templates(session: Session, creator_id: str, niche: str | None) -> TemplateList:
    """The built-in templates and the creator's own, of ``niche`` when given."""
    perf = _performance(session, creator_id)
    items = [
        _built_in(t, perf.get(t.id, (0, None)))
        for t in BUILT_IN.values()
        if niche is None or t.niche == niche
    ]
    stmt = select(CampaignTemplate).where(CampaignTemplate.creator_id == creator_id)
    if niche is not None:
        stmt = stmt.where(CampaignTemplate.niche == niche)
    for saved in session.scalars(stmt.order_by(CampaignTemplate.created_at, CampaignTemplate.id)):
        items.append(_saved(saved, perf.get(saved.id, (0, None))))
    return TemplateList(items=items)


def _template(session: Session, creator_id: str, template_id: str) -> TemplateOut:
    if template_id in BUILT_IN:
        return _built_in(BUILT_IN[template_id], (0, None))
    saved = session.scalar(
        select(CampaignTemplate).where(
            CampaignTemplate.id == template_id, CampaignTemplate.creator_id == creator_id
        )
    )
    if saved is None:
        raise TemplateNotFound(details=[{"field": "templateId"}])
    return _saved(saved, (0, None))


def from_template(
    session: Session, creator_id: str, data: FromTemplateIn, now: datetime
) -> Campaign:
    """A campaign made from a template: its type, content, goals and platforms, with what
    ``data`` sets.

    Raises:
        TemplateNotFound: 404. InvalidCriteria: 422 for a segment id not the creator's.
    """
    template = _template(session, creator_id, data.template_id)
    platforms = data.platforms or template.platforms
    content = {
        key: ContentIn.model_validate(value)
        for key, value in template.content.items()
        if key == "default" or key in platforms
    }
    content.update(data.content or {})
    campaign_in = CampaignIn(
        name=data.name or template.name,
        description=template.description,
        type=template.type,
        platforms=platforms,
        segment_ids=data.segment_ids,
        targeting=data.targeting,
        content=content,
        schedule=data.schedule,
        goals=template.goals,
        template_id=template.id,
    )
    return create_campaign(session, creator_id, campaign_in, now)


def save_as_template(
    session: Session, creator_id: str, campaign_id: str, data: SaveTemplateIn, now: datetime
) -> TemplateOut:
    """Save a campaign's type, platforms, content and goals as a template of the creator.

    Raises:
        CampaignNotFound: 404.
    """
    campaign = get_campaign(session, creator_id, campaign_id)
    saved = CampaignTemplate(
        id=new_id("ctpl"),
        creator_id=creator_id,
        name=data.name or campaign.name,
        description=data.description or campaign.description,
        niche=data.niche,
        type=campaign.type,
        platforms=list(campaign.platforms),
        content=dict(campaign.content),
        goals=dict(campaign.goals),
        created_at=now,
        updated_at=now,
    )
    session.add(saved)
    session.flush()
    return _saved(saved, (0, None))
