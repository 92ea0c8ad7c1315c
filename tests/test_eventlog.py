"""The event catalogue: every row of ``events`` has a type of :class:`EventType`, written with
its cause (issue 10, "Events")."""

from __future__ import annotations

from sqlalchemy import select

from huntaze.eventlog import EventType
from huntaze.models.events import Event
from tests.factories import create_conversation, create_fan, create_inbox_message


def test_every_recorded_event_is_in_the_catalogue(client, tenant, sessions) -> None:  # type: ignore[no-untyped-def]
    h = tenant["headers"]
    fan = create_fan(client, h, "e1")
    client.patch(f"/api/crm/fans/{fan['id']}", json={"displayName": "E"}, headers=h)
    conv = create_conversation(client, h, fan["id"])
    create_inbox_message(client, h, conv["id"], "hi", direction="inbound")
    client.delete(f"/api/crm/fans/{fan['id']}", headers=h)
    with sessions() as s:
        rows = s.execute(
            select(Event.type, Event.subject_id, Event.payload)
            .where(Event.creator_id == tenant["creator_id"])
            .order_by(Event.occurred_at, Event.id)
        ).all()
    types = [r.type for r in rows]
    assert set(types) <= {str(t) for t in EventType}
    assert types[:2] == ["fan.created", "fan.updated"]
    assert "message.received" in types and types[-1] == "fan.deleted"
    assert rows[1].payload == {"fields": ["display_name"]}
