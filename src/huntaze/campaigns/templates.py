"""The built-in campaign templates: seed 003's ten, seed 004's templates by niche, and seed
000's smart-audience messages (an SFW text for Instagram, a flirtier one for OnlyFans).

Texts use the campaign placeholders (``{firstName}``, ``{username}``, ``{days_absent}``, any
custom field); prices are in cents. ``audience`` names the smart audience
(:mod:`huntaze.segments.smart`) a template is written for, when it has one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Template:
    """A campaign template: what a campaign made from it starts with."""

    id: str
    name: str
    description: str
    niche: str
    type: str
    content: dict[str, dict[str, Any]]
    goals: dict[str, Any] = field(default_factory=dict)
    audience: str | None = None


def _text(text: str, price_cents: int | None = None, *, nsfw: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"text": text}
    if price_cents is not None:
        body["priceCents"] = price_cents
    if nsfw:
        body["nsfw"] = True  # never sent to an SFW platform (huntaze.campaigns.adapt)
    return body


def _one(
    text: str, price_cents: int | None = None, *, nsfw: bool = False
) -> dict[str, dict[str, Any]]:
    return {"default": _text(text, price_cents, nsfw=nsfw)}


GENERAL: tuple[Template, ...] = (
    Template(
        "welcome_new_subscriber",
        "Welcome New Subscriber",
        "A personal welcome, a first-purchase offer and a tour of what is here.",
        "general",
        "engagement",
        _one(
            "Hi {firstName}, welcome in! So glad you're here. Here's what you'll find on my "
            "page, and a little something off your first unlock."
        ),
        {"conversions": 50},
        "new_subscribers",
    ),
    Template(
        "re_engagement",
        "Re-engagement",
        "Inactive fans: an exclusive comeback offer and a reminder of what they missed.",
        "general",
        "retention",
        _one(
            "Hey {firstName}, it's been {days_absent} days! I've posted a lot since. "
            "Come back this week and the newest set is on me."
        ),
        {"conversions": 30},
        "win_back_30_days",
    ),
    Template(
        "vip_exclusive_offer",
        "VIP Exclusive Offer",
        "Top spenders: premium content and early access before anyone else.",
        "general",
        "ppv",
        _one(
            "{firstName}, you're one of my favourite people here, so you get this first: "
            "early access to my new premium set.",
            2500,
        ),
        {"revenue": 2500},
        "high_spenders",
    ),
    Template(
        "content_teaser",
        "Content Teaser",
        "A preview of new content with a strong call to action and a deadline.",
        "general",
        "ppv",
        _one(
            "Sneak peek, {firstName}: the full set drops tonight. Unlock it before midnight.", 1200
        ),
    ),
    Template(
        "birthday_special",
        "Birthday Special",
        "A personal birthday message with a gift or discount and bonus content.",
        "general",
        "promotion",
        _one("Happy birthday {firstName}! I made you something special, and it's free today."),
    ),
    Template(
        "milestone_celebration",
        "Milestone Celebration",
        "Thank the community for a milestone with free special content.",
        "general",
        "engagement",
        _one(
            "We did it, {firstName}: a new milestone, thanks to you. Here's a free set to "
            "celebrate together."
        ),
    ),
    Template(
        "flash_sale",
        "Flash Sale",
        "A time-limited promotion with strong urgency.",
        "general",
        "promotion",
        _one("Flash sale, {firstName}: everything half price for the next 24 hours only."),
        {"conversions": 100},
    ),
    Template(
        "content_poll",
        "Content Poll",
        "Let fans vote on the next content: engagement and direct interaction.",
        "general",
        "engagement",
        _one("{firstName}, you choose what I shoot next! Reply A, B or C and I'll make it happen."),
    ),
    Template(
        "behind_the_scenes",
        "Behind The Scenes",
        "Exclusive behind-the-scenes content for a personal connection.",
        "general",
        "engagement",
        _one("Ever wondered how a shoot really goes, {firstName}? Here's the unfiltered version."),
    ),
    Template(
        "referral_program",
        "Referral Program",
        "Rewards for both sides when a fan brings a friend.",
        "general",
        "promotion",
        _one(
            "{firstName}, bring a friend and you both get a free month. Just send them your link."
        ),
    ),
)

BY_NICHE: tuple[Template, ...] = (
    Template(
        "fitness_30_day_challenge",
        "30-Day Workout Challenge",
        "Daily routines, meal plans and personal coaching for 30 days.",
        "fitness",
        "ppv",
        _one(
            "Transform your body in 30 days, {firstName}! Daily routines, meal plans, coaching.",
            4999,
        ),
        {"conversions": 50, "revenue": 2500},
    ),
    Template(
        "fitness_meal_plan_bundle",
        "Meal Plan Bundle",
        "Weekly meal plans and recipes with macro tracking and shopping lists.",
        "fitness",
        "subscription",
        _one(
            "Weekly meal plans + recipes, {firstName}: macros tracked, shopping lists done.", 2999
        ),
        {"conversions": 100, "revenue": 3000},
    ),
    Template(
        "gaming_exclusive_stream_access",
        "Exclusive Stream Access",
        "Private streams, behind the scenes and gaming sessions for VIPs.",
        "gaming",
        "subscription",
        _one("VIP stream access, {firstName}: private streams and sessions with me.", 1999),
        {"conversions": 200, "revenue": 4000},
    ),
    Template(
        "gaming_tutorial_series",
        "Game Tutorial Series",
        "Advanced strategies and techniques from a pro player.",
        "gaming",
        "ppv",
        _one("Pro tips, {firstName}: the strategies I actually use to win.", 1499),
        {"conversions": 150, "revenue": 2250},
    ),
    Template(
        "adult_vip_subscription_tier",
        "VIP Subscription Tier",
        "Exclusive content, custom requests and priority messaging.",
        "adult",
        "subscription",
        _one(
            "VIP access, {firstName}: exclusive sets, custom requests, priority replies.",
            4999,
            nsfw=True,
        ),
        {"conversions": 100, "revenue": 5000},
    ),
    Template(
        "adult_custom_content_offer",
        "Custom Content Offer",
        "Personalised content made to the fan's request.",
        "adult",
        "ppv",
        _one("Something made just for you, {firstName}. Tell me what you'd like.", 9999, nsfw=True),
        {"conversions": 50, "revenue": 5000},
    ),
    Template(
        "fashion_lookbook_drop",
        "Seasonal Lookbook Drop",
        "The new season's looks first, with styling notes.",
        "fashion",
        "ppv",
        _one("The new lookbook is here, {firstName}: every outfit, every styling note.", 1499),
        {"conversions": 80},
    ),
    Template(
        "fashion_styling_session",
        "Personal Styling Session",
        "A one-to-one styling session from a fan's own photos.",
        "fashion",
        "ppv",
        _one("Send me three photos, {firstName}, and I'll style you a full week of looks.", 3999),
        {"conversions": 30},
    ),
)

SMART_MESSAGES: tuple[Template, ...] = (
    Template(
        "smart_win_back",
        "Win-Back 30 Days",
        "Fans inactive for 30 days who have spent over $20 (seed 000).",
        "general",
        "retention",
        {
            "instagram": _text(
                "Hey {firstName}, it's been {days_absent} days! I've missed you around here. "
                "New posts are up, come say hi."
            ),
            "onlyfans": _text(
                "{firstName}, {days_absent} days without you... I saved my newest set for "
                "you. Come back and it's yours.",
                nsfw=True,
            ),
        },
        audience="win_back_30_days",
    ),
    Template(
        "smart_upgrade_nudge_vip",
        "Upgrade Nudge VIP",
        "Active fans who have spent $50 to $99: one step from VIP (seed 000).",
        "general",
        "subscription",
        {
            "instagram": _text(
                "{firstName}, you're always here for me. The close friends list has room "
                "for one more, want in?"
            ),
            "onlyfans": _text(
                "{firstName}, you're so close to VIP. Upgrade today and unlock everything "
                "I keep for my favourites.",
                nsfw=True,
            ),
        },
        audience="upgrade_nudge_vip",
    ),
    Template(
        "smart_anniversary",
        "Anniversary Celebration",
        "Loyal fans reaching a year (seed 000).",
        "general",
        "engagement",
        {
            "instagram": _text(
                "One year together, {firstName}! Thank you for being here from the start."
            ),
            "onlyfans": _text(
                "Happy anniversary {firstName}! A whole year... here's a private set to say "
                "thank you.",
                nsfw=True,
            ),
        },
        audience="anniversary_12_months",
    ),
)

BUILT_IN: dict[str, Template] = {t.id: t for t in (*GENERAL, *BY_NICHE, *SMART_MESSAGES)}
NICHES = ("general", "fitness", "gaming", "adult", "fashion")
