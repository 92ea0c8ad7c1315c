"""The fan list's filters take the shared value rules: dates, 64-bit money, platform, tag."""

from __future__ import annotations

import pytest

INT64_MAX = 2**63 - 1


def _seed(client, h) -> None:  # type: ignore[no-untyped-def]
    for key, user, platform, active, ltv in [
        ("1", "may", "onlyfans", "2025-05-31T23:59:59Z", 100),
        ("2", "june", "onlyfans", "2025-06-01T00:00:00Z", 200),
        ("3", "july", "patreon", "2025-07-01T12:00:00Z", INT64_MAX),
        ("4", "never", "patreon", None, 0),
    ]:
        body = {
            "platform": platform,
            "platformFanId": key,
            "username": user,
            "lastActiveAt": active,
            "lifetimeValueCents": ltv,
        }
        assert client.post("/api/crm/fans", json=body, headers=h).status_code == 201


def _names(client, h, **params):  # type: ignore[no-untyped-def]
    r = client.get("/api/crm/fans", params=params, headers=h)
    assert r.status_code == 200, r.text
    return sorted(f["username"] for f in r.json()["items"])


@pytest.mark.parametrize(
    "after",
    ["2025-06-01", "2025-06-01T00:00:00", "2025-06-01T00:00:00Z", "2025-06-01T02:00:00+02:00"],
)
def test_a_date_is_midnight_utc_and_a_naive_datetime_is_utc(client, tenant, after) -> None:
    h = tenant["headers"]
    _seed(client, h)
    assert _names(client, h, lastActiveAfter=after) == ["july", "june"]
    assert _names(client, h, lastActiveBefore=after) == ["may"]


@pytest.mark.parametrize("value", ["2025-13-01", "yesterday", "2025-06-01T25:00:00"])
def test_a_bad_date_is_422_naming_the_filter(client, tenant, value) -> None:
    r = client.get("/api/crm/fans", params={"lastActiveAfter": value}, headers=tenant["headers"])
    assert r.status_code == 422
    assert [d["field"] for d in r.json()["error"]["details"]] == ["lastActiveAfter"]


@pytest.mark.parametrize("name", ["minLifetimeValueCents", "maxLifetimeValueCents"])
@pytest.mark.parametrize("value", [str(2**63), str(-(2**63) - 1), str(10**30)])
def test_money_beyond_64_bits_is_422_naming_the_filter(client, tenant, name, value) -> None:
    r = client.get("/api/crm/fans", params={name: value}, headers=tenant["headers"])
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid_request"
    assert [d["field"] for d in err["details"]] == [name]


def test_money_at_the_64_bit_bounds_filters(client, tenant) -> None:
    h = tenant["headers"]
    _seed(client, h)
    assert _names(client, h, minLifetimeValueCents=INT64_MAX) == ["july"]
    assert _names(client, h, maxLifetimeValueCents=INT64_MAX) == ["july", "june", "may", "never"]
    assert _names(client, h, minLifetimeValueCents=-(2**63), maxLifetimeValueCents=100) == [
        "may",
        "never",
    ]


def test_platform_is_read_like_everywhere_else(client, tenant) -> None:
    h = tenant["headers"]
    _seed(client, h)
    assert _names(client, h, platform=" OnlyFans ") == ["june", "may"]
    r = client.get("/api/crm/fans", params={"platform": "Only Fans!/../x"}, headers=h)
    assert r.status_code == 422
    assert [d["field"] for d in r.json()["error"]["details"]] == ["platform"]
    r = client.get("/api/crm/fans", params={"platform": "x" * 33}, headers=h)
    assert r.status_code == 422


@pytest.mark.parametrize("name", ["q", "tag", "platform", "cursor"])
def test_a_nul_character_is_422_naming_the_filter(client, tenant, name) -> None:
    # PostgreSQL text cannot hold NUL: before, q, tag and cursor reached the database (500)
    r = client.get(f"/api/crm/fans?{name}=a%00b", headers=tenant["headers"])
    assert r.status_code == 422, r.text
    assert [d["field"] for d in r.json()["error"]["details"]] == [name]


def test_a_tag_longer_than_a_tag_is_422(client, tenant) -> None:
    r = client.get("/api/crm/fans", params={"tag": "t" * 101}, headers=tenant["headers"])
    assert r.status_code == 422
    assert [d["field"] for d in r.json()["error"]["details"]] == ["tag"]


def test_blank_text_filters_filter_nothing(client, tenant) -> None:
    h = tenant["headers"]
    _seed(client, h)
    everyone = ["july", "june", "may", "never"]
    assert _names(client, h, q="   ") == everyone
    assert _names(client, h, platform="") == everyone
    assert _names(client, h, tag=" ") == everyone
