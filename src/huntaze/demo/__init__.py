"""The demo creator: filled from synthetic sample exports shipped in the package.

The samples in ``demo/samples/`` are made-up people in the exact shapes of formats.md, one
file per format, so ``huntaze demo`` exercises every importer.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any, BinaryIO, cast

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from huntaze.auth.tokens import IssuedToken, create_token_for
from huntaze.imports.report import ImportReport
from huntaze.imports.service import import_stream
from huntaze.inbox.quick_replies import create_reply
from huntaze.inbox.schemas import MessageCreate, QuickReplyIn
from huntaze.inbox.service import add_message, open_conversation
from huntaze.kit.clock import Clock
from huntaze.models.crm import Conversation, Fan, QuickReply

DEMO_HANDLE = "demo"

#: (sample file, format, platform, mapping)
SAMPLES: list[tuple[str, str, str | None, dict[str, Any] | None]] = [
    ("patreon_members.csv", "patreon_members", None, None),
    ("substack_email_list.csv", "substack_subscribers", None, None),
    ("kofi_payments.csv", "kofi_payments", None, None),
    ("onlyfans_fans.json", "onlyfans_fans", None, None),
    ("onlyfans_transactions.json", "onlyfans_transactions", None, None),
    ("instagram_followers_1.json", "instagram_followers", None, None),
    ("tiktok_user_data.json", "tiktok_followers_json", None, None),
    ("tiktok_Follower.txt", "tiktok_followers_txt", None, None),
    (
        "generic_fans.csv",
        "generic_csv",
        "fansly",
        {
            "key": "id",
            "username": "handle",
            "email": "email",
            "displayName": "name",
            "lifetimeValue": "spent",
            "currency": "currency",
            "tags": "tags",
            "subscribedAt": "joined",
        },
    ),
]


@dataclass
class DemoResult:
    """The demo creator's id, an owner token, and each sample's import report."""

    creator_id: str
    token: IssuedToken
    reports: dict[str, ImportReport]


def _seed_inbox(session: Session, creator_id: str, clock: Clock) -> None:
    if session.scalar(
        select(func.count()).select_from(QuickReply).where(QuickReply.creator_id == creator_id)
    ):
        return
    now = clock.now()
    create_reply(
        session,
        creator_id,
        QuickReplyIn(
            title="Thanks", content="Thank you so much {firstName}! 💜", category="thanks"
        ),
        now,
    )
    create_reply(
        session,
        creator_id,
        QuickReplyIn(
            title="New set", content="Hey {firstName}, a new set just dropped, want a peek?"
        ),
        now,
    )
    fans = session.scalars(
        select(Fan)
        .where(Fan.creator_id == creator_id, Fan.platform == "onlyfans")
        .order_by(Fan.lifetime_value_cents.desc())
        .limit(3)
    ).all()
    for fan in fans:
        conv, _ = open_conversation(session, creator_id, fan.id, None, now)
        add_message(
            session, creator_id, conv.id, MessageCreate(direction="outbound", text="Hi!"), now
        )
        add_message(
            session, creator_id, conv.id, MessageCreate(direction="inbound", text="Hey :)"), now
        )


def build_demo(engine: Engine, sessions: Any, clock: Clock) -> DemoResult:
    """Create (or refresh) the demo creator, import every sample, and issue an owner token.

    Running it again re-imports the samples, which reports them unchanged.
    """
    with sessions() as session:
        token = create_token_for(session, DEMO_HANDLE, clock.now(), role="owner")
        session.commit()
    creator_id = token.creator_id or ""
    reports: dict[str, ImportReport] = {}
    samples = resources.files("huntaze.demo") / "samples"
    for filename, format_name, platform, mapping in SAMPLES:
        with samples.joinpath(filename).open("rb") as stream:
            reports[filename] = import_stream(
                engine,
                creator_id,
                cast(BinaryIO, stream),
                clock,
                format_name=format_name,
                platform=platform,
                mapping=mapping,
                default_currency="USD",
            )
    with sessions() as session:
        if not session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.creator_id == creator_id)
        ):
            _seed_inbox(session, creator_id, clock)
        session.commit()
    return DemoResult(creator_id, token, reports)


def database_is_empty(sessions: Any) -> bool:
    """True when no creator exists yet."""
    from huntaze.models.tenancy import Creator

    with sessions() as session:
        return not session.scalar(select(func.count()).select_from(Creator))
