"""States are StrEnums beside their models; the JSON schemas and importers use the same value
sets as literals. A value added to one and not the other fails here."""

from __future__ import annotations

from typing import get_args

from huntaze.fans.schemas import FanCreate
from huntaze.models import crm, messaging


def test_each_literal_holds_its_enum_values() -> None:
    pairs = [
        (crm.SubscriptionStatusValue, crm.SubscriptionStatus),
        (crm.ConsentValue, crm.Consent),
        (crm.PurchaseKindValue, crm.PurchaseKind),
    ]
    for literal, enum in pairs:
        assert set(get_args(literal)) == {m.value for m in enum}, enum.__name__


def test_the_api_accepts_exactly_the_enum_values() -> None:
    schema = FanCreate.model_json_schema(by_alias=True)["properties"]
    assert set(schema["subscriptionStatus"]["enum"]) == set(crm.SubscriptionStatus)
    assert set(schema["consent"]["enum"]) == set(crm.Consent)


def test_enum_members_are_their_stored_text() -> None:
    assert str(messaging.OutboxStatus.QUEUED) == "queued"
    assert f"{messaging.BreakerState.HALF_OPEN}" == "half_open"
    assert str(messaging.AccountStatus.RECONNECT_REQUIRED) == "reconnect_required"
