"""A creator with fans whose every criterion-relevant value is known, for segment tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from huntaze.models.crm import Conversation, Fan, FanTag, Message, Purchase
from tests.factories import fan_values, purchase_values

DAY = timedelta(days=1)


@pytest.fixture
def audience(tenant, sessions: sessionmaker[Session], clock) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Seven fans of one creator, keyed by platform fan id:

    - ``whale``: $600 lifetime, active 2 days ago, tagged VIP, subscribed 400 days ago,
      two PPV purchases in the last 30 days and an old tip, 3 inbound messages this week
    - ``lapsed``: $25, last active 45 days ago, subscription expired
    - ``nudge``: $75, active yesterday, custom field city=Paris
    - ``newbie``: $0, subscribed 3 days ago, never active, tagged new
    - ``risk``: $10, active 20 days ago
    - ``anniv``: $40, subscribed 366 days ago, active 5 days ago
    - ``fansly``: $200 on Fansly, opted out, active today
    """
    now = clock.now()
    cid = tenant["creator_id"]

    def fan(key: str, **kw: Any) -> dict[str, Any]:
        return fan_values(cid, key, now - 500 * DAY, **kw)

    fans = [
        fan(
            "whale",
            lifetime_value_cents=60000,
            last_active_at=now - 2 * DAY,
            subscribed_at=now - 400 * DAY,
            display_name="Big Whale",
        ),
        fan(
            "lapsed",
            lifetime_value_cents=2500,
            last_active_at=now - 45 * DAY,
            subscription_status="expired",
        ),
        fan(
            "nudge",
            lifetime_value_cents=7500,
            last_active_at=now - DAY,
            custom_fields={"city": "Paris", "age": 31},
        ),
        fan("newbie", subscribed_at=now - 3 * DAY, created_at=now - 3 * DAY),
        fan("risk", lifetime_value_cents=1000, last_active_at=now - 20 * DAY),
        fan(
            "anniv",
            lifetime_value_cents=4000,
            subscribed_at=now - 366 * DAY,
            last_active_at=now - 5 * DAY,
        ),
        fan(
            "fansly",
            platform="fansly",
            lifetime_value_cents=20000,
            consent="opted_out",
            last_active_at=now,
        ),
    ]
    ids = {f["platform_fan_id"]: f["id"] for f in fans}
    whale = ids["whale"]
    with sessions() as s, s.begin():
        s.execute(insert(Fan), fans)
        s.execute(
            insert(FanTag),
            [
                {"fan_id": whale, "tag": "VIP", "tag_key": "vip", "creator_id": cid},
                {"fan_id": ids["newbie"], "tag": "new", "tag_key": "new", "creator_id": cid},
            ],
        )
        s.execute(
            insert(Purchase),
            [
                purchase_values(cid, whale, "p1", 1500, now - 3 * DAY, kind="ppv_message"),
                purchase_values(cid, whale, "p2", 2500, now - 10 * DAY, kind="ppv_post"),
                purchase_values(cid, whale, "p3", 9000, now - 90 * DAY, kind="tip"),
                purchase_values(cid, ids["nudge"], "p4", 700, now - 40 * DAY, kind="ppv_message"),
            ],
        )
        conv = f"conv_{cid[-8:]}"
        s.execute(
            insert(Conversation),
            [
                {
                    "id": conv,
                    "creator_id": cid,
                    "fan_id": whale,
                    "platform": "onlyfans",
                    "unread_count": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
        s.execute(
            insert(Message),
            [
                {
                    "id": f"m{i}_{cid[-8:]}",
                    "creator_id": cid,
                    "conversation_id": conv,
                    "fan_id": whale,
                    "direction": "inbound" if i < 3 else "outbound",
                    "text": "hi",
                    "media": [],
                    "purchased": False,
                    "sent_at": now - i * DAY,
                    "created_at": now - i * DAY,
                }
                for i in range(4)
            ],
        )
    return {"ids": ids, "headers": tenant["headers"], "creator_id": cid}
