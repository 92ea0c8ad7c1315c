"""Content adapted per platform: what one campaign's content becomes on each platform it
sends on.

- **Length.** A platform's longest message: the text the creator wrote (placeholders aside)
  must fit, or the campaign is refused (422 ``unsuitable_content``); a personalised message
  that grows past a limit counted in characters is cut at it, ending with ``…``.
- **SFW.** Instagram and TikTok are SFW platforms: content marked ``nsfw`` never reaches
  them. A campaign on one of them whose ``default`` content is marked ``nsfw`` needs content
  of its own for it.
- **PPV.** A PPV price reaches only platforms that sell messages (OnlyFans, Fansly); it is
  dropped elsewhere, so a ``default`` with a price still sends a free message on email.

Platforms not listed here get the content as written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from huntaze.kit.errors import ApiError
from huntaze.kit.templates import parts


@dataclass(frozen=True, slots=True)
class PlatformRules:
    """What a platform accepts in a message.

    Attributes:
        max_text: the longest text, in characters (or UTF-8 bytes with ``in_bytes``);
            ``None`` when the platform documents no limit.
        in_bytes: ``max_text`` counts UTF-8 bytes.
        ppv: the platform sells messages (a ``priceCents`` applies).
        sfw: only content not marked ``nsfw`` may reach it.
        source: where the limit comes from.
    """

    max_text: int | None = None
    in_bytes: bool = False
    ppv: bool = False
    sfw: bool = False
    source: str = ""


RULES: dict[str, PlatformRules] = {
    "onlyfans": PlatformRules(ppv=True),
    "fansly": PlatformRules(ppv=True),
    "email": PlatformRules(),
    "instagram": PlatformRules(
        max_text=1000,
        in_bytes=True,
        sfw=True,
        source="Meta, Instagram Messaging, Send a Message: message text must be UTF-8 and "
        "1000 bytes or less (developers.facebook.com/docs/messenger-platform/instagram/"
        "features/send-message)",
    ),
    "tiktok": PlatformRules(sfw=True),
    "reddit": PlatformRules(
        max_text=10_000,
        source="Reddit API, POST /api/compose: the message body takes up to 10,000 "
        "characters (reddit.com/dev/api#POST_api_compose)",
    ),
}
_AS_WRITTEN = PlatformRules(ppv=True)


def rules_for(platform: str) -> PlatformRules:
    """The platform's rules; a platform not in :data:`RULES` takes content as written."""
    return RULES.get(platform, _AS_WRITTEN)


def _size(text: str, rules: PlatformRules) -> int:
    return len(text.encode("utf-8")) if rules.in_bytes else len(text)


def written_text(template: str) -> str:
    """``template`` without its ``{placeholders}``: what every fan's message holds at least."""
    return "".join(text for text, is_variable in parts(template) if not is_variable)


def for_platform(content: dict[str, Any], platform: str) -> dict[str, Any] | None:
    """What ``platform`` receives from a campaign's ``content`` (``{platform or "default":
    {text, mediaUrls?, priceCents?, nsfw?}}``): its own entry, else ``default`` unless that
    is marked ``nsfw`` and the platform is SFW; without a PPV price where the platform sells
    nothing. ``None`` when nothing suits it."""
    rules = rules_for(platform)
    found = content.get(platform)
    if not found:
        found = content.get("default")
        if found and rules.sfw and found.get("nsfw"):
            return None
    if not found:
        return None
    adapted = dict(found)
    if not rules.ppv:
        adapted.pop("priceCents", None)
    return adapted


def check(platforms: Sequence[str], content: dict[str, Any], at: str = "content") -> None:
    """Check that each platform's content suits it (``at`` names the content in errors).

    Raises:
        ApiError: 422 ``unsuitable_content`` listing, for each problem, the field
            (``<at>.<platform or default>.text``, or ``<at>.<platform>``) and why: a
            written text past the platform's limit, or an SFW platform left with content
            marked ``nsfw``.
    """
    problems: list[dict[str, Any]] = []
    for platform in platforms:
        rules = rules_for(platform)
        own = platform if content.get(platform) else "default"
        entry = content.get(own)
        if not entry:
            continue  # no content at all: the launch answers missing_content
        if rules.sfw and entry.get("nsfw"):
            problems.append(
                {
                    "field": f"{at}.{platform}",
                    "message": f"{platform} only takes SFW content: give it content of its "
                    "own that is not marked nsfw",
                }
            )
            continue
        limit = rules.max_text
        if limit is not None and _size(written_text(str(entry.get("text", ""))), rules) > limit:
            unit = "bytes" if rules.in_bytes else "characters"
            problems.append(
                {
                    "field": f"{at}.{own}.text",
                    "message": f"longer than {platform}'s {limit:,} {unit}",
                }
            )
    if problems:
        raise ApiError(
            422, "unsuitable_content", "Content does not suit a platform it is sent on", problems
        )
