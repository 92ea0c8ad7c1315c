"""Fan fields at their bounds (issue 9 §1): deep or oversized custom fields, integers past 64
bits, text a column cannot store (NUL, lone surrogates), emails, platforms and dates answer
422 naming the field, commit nothing, and leave the creator's fan list readable."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

FANS = "/api/crm/fans"
INT64_MAX = 2**63 - 1


def _send(client: TestClient, method: str, url: str, body: str, h: dict[str, str]) -> Any:
    """Send ``body`` as written: ``\\ud800`` and ``\\u0000`` escapes reach the server as the
    client wrote them (``json=`` would refuse a lone surrogate before sending)."""
    return client.request(
        method, url, content=body.encode(), headers={**h, "Content-Type": "application/json"}
    )


def _fan(i: str, **extra: Any) -> dict[str, Any]:
    return {"platform": "onlyfans", "platformFanId": i, "username": f"user{i}", **extra}


def _nested(depth: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    node = root
    for _ in range(depth - 1):
        node["a"] = {}
        node = node["a"]
    return root


def _ids(client: TestClient, h: dict[str, str]) -> list[str]:
    r = client.get(FANS, headers=h)
    assert r.status_code == 200, r.text
    return [f["id"] for f in r.json()["items"]]


def _field_error(r: Any, field: str) -> str:
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_request"
    fields = [d["field"] for d in error["details"]]
    named = [i for i, f in enumerate(fields) if f == field or f.startswith(field + ".")]
    assert named, error
    return str(error["details"][named[0]]["message"])


# -- free-form JSON ---------------------------------------------------------------------


def test_deep_custom_fields_are_refused_and_the_list_still_answers(
    client: TestClient, tenant: dict[str, Any]
) -> None:
    h = tenant["headers"]
    kept = client.post(FANS, json=_fan("1"), headers=h).json()
    r = client.post(FANS, json=_fan("2", customFields=_nested(256)), headers=h)
    assert "nested too deep" in _field_error(r, "customFields")
    assert _ids(client, h) == [kept["id"]]
    top = client.get(f"{FANS}/top", headers=h)
    assert top.status_code == 200 and [f["id"] for f in top.json()["items"]] == [kept["id"]]
    r = client.patch(f"{FANS}/{kept['id']}", json={"customFields": _nested(9)}, headers=h)
    _field_error(r, "customFields")
    r = client.put(f"{FANS}/{kept['id']}", json=_fan("1", customFields=_nested(9)), headers=h)
    _field_error(r, "customFields")
    assert client.get(f"{FANS}/{kept['id']}", headers=h).json()["customFields"] == {}


def test_eight_levels_of_custom_fields_are_kept(client: TestClient, tenant: dict[str, Any]) -> None:
    h = tenant["headers"]
    r = client.post(FANS, json=_fan("1", customFields=_nested(8)), headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["customFields"] == _nested(8)


@pytest.mark.parametrize(
    ("custom", "reason"),
    [
        ({f"k{i}": i for i in range(2_001)}, "too many values"),
        ({"a": "x" * 70_000}, "too large"),
        ({"k" * 256: 1}, "a key is at most 255"),
        ({"n": 2**64}, "must be between"),
    ],
)
def test_oversized_custom_fields_are_refused(
    client: TestClient, tenant: dict[str, Any], custom: dict[str, Any], reason: str
) -> None:
    h = tenant["headers"]
    r = client.post(FANS, json=_fan("1", customFields=custom), headers=h)
    assert reason in _field_error(r, "customFields")
    assert _ids(client, h) == []


# -- integers ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [2**63, 2**70, -(2**63) - 1])
def test_lifetime_value_past_64_bits_is_refused(
    client: TestClient, tenant: dict[str, Any], value: int
) -> None:
    h = tenant["headers"]
    fan = client.post(FANS, json=_fan("1"), headers=h).json()
    for r in (
        client.post(FANS, json=_fan("2", lifetimeValueCents=value), headers=h),
        client.put(f"{FANS}/{fan['id']}", json=_fan("1", lifetimeValueCents=value), headers=h),
        client.patch(f"{FANS}/{fan['id']}", json={"lifetimeValueCents": value}, headers=h),
    ):
        _field_error(r, "lifetimeValueCents")
    assert _ids(client, h) == [fan["id"]]
    assert client.get(f"{FANS}/{fan['id']}", headers=h).json()["lifetimeValueCents"] == 0


def test_the_largest_64_bit_lifetime_value_is_kept(
    client: TestClient, tenant: dict[str, Any]
) -> None:
    h = tenant["headers"]
    r = client.post(FANS, json=_fan("1", lifetimeValueCents=INT64_MAX), headers=h)
    assert r.status_code == 201, r.text
    top = client.get(f"{FANS}/top", headers=h).json()["items"]
    assert [f["lifetimeValueCents"] for f in top] == [INT64_MAX]


# -- text a column cannot store ---------------------------------------------------------

#: (field, a JSON value holding the bad character at ``{bad}``) for every string of a fan.
TEXT_FIELDS = [
    ("platformFanId", '"x{bad}"'),
    ("username", '"x{bad}"'),
    ("displayName", '"x{bad}"'),
    ("notes", '"x{bad}"'),
    ("timezone", '"Europe/Paris{bad}"'),
    ("currency", '"EU{bad}"'),
    ("tags", '["vip", "x{bad}"]'),
    ("customFields", '{{"city": "x{bad}"}}'),
    ("customFields", '{{"x{bad}": "key"}}'),
    ("customFields", '{{"list": [1, {{"deep": "x{bad}"}}]}}'),
]
BAD = [pytest.param("\\u0000", id="nul"), pytest.param("\\ud800", id="lone-surrogate")]


def _body(field: str, value: str, bad: str, key: str = "9") -> str:
    base = {"platform": "onlyfans", "platformFanId": key}
    base.pop(field, None)
    text = json.dumps(base)[:-1]
    return f'{text}, "{field}": {value.format(bad=bad)}}}'


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize(("field", "value"), TEXT_FIELDS)
def test_nul_and_lone_surrogates_are_refused_on_create(
    client: TestClient, tenant: dict[str, Any], field: str, value: str, bad: str
) -> None:
    h = tenant["headers"]
    r = _send(client, "POST", FANS, _body(field, value, bad), h)
    message = _field_error(r, field)
    assert "\x00" not in message and "\ud800" not in message
    assert _ids(client, h) == []


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize(("field", "value"), TEXT_FIELDS)
def test_nul_and_lone_surrogates_are_refused_on_replace_and_patch(
    client: TestClient, tenant: dict[str, Any], field: str, value: str, bad: str
) -> None:
    h = tenant["headers"]
    fan = client.post(FANS, json=_fan("9", notes="kept", tags=["kept"]), headers=h).json()
    url = f"{FANS}/{fan['id']}"
    _field_error(_send(client, "PUT", url, _body(field, value, bad), h), field)
    if field != "platformFanId":
        patch = f'{{"{field}": {value.format(bad=bad)}}}'
        _field_error(_send(client, "PATCH", url, patch, h), field)
    assert client.get(url, headers=h).json() == fan
    assert client.get(FANS, headers=h).json()["items"] == [fan]


def test_ordinary_unicode_is_kept(client: TestClient, tenant: dict[str, Any]) -> None:
    h = tenant["headers"]
    body = _fan(
        "1",
        displayName="Jürgen 💸 日本",
        tags=["🔥", "straße"],
        customFields={"stadt": "Zürich", "emoji": "😀"},
    )
    r = client.post(FANS, json=body, headers=h)
    assert r.status_code == 201, r.text
    fan = r.json()
    assert (fan["displayName"], fan["tags"]) == ("Jürgen 💸 日本", ["straße", "🔥"])
    assert fan["customFields"] == {"stadt": "Zürich", "emoji": "😀"}


# -- emails, platforms, tags, dates -----------------------------------------------------


@pytest.mark.parametrize(
    "email",
    ["a@example.com\r\nBcc: x@example.com", "two words@example.com", "no-at-sign", "@x", "a@"],
)
def test_malformed_emails_are_refused(
    client: TestClient, tenant: dict[str, Any], email: str
) -> None:
    h = tenant["headers"]
    _field_error(client.post(FANS, json=_fan("1", email=email), headers=h), "email")
    fan = client.post(FANS, json=_fan("2"), headers=h).json()
    _field_error(client.patch(f"{FANS}/{fan['id']}", json={"email": email}, headers=h), "email")
    assert client.get(f"{FANS}/{fan['id']}", headers=h).json()["email"] is None


def test_emails_are_trimmed_and_lower_cased_and_blank_is_none(
    client: TestClient, tenant: dict[str, Any]
) -> None:
    h = tenant["headers"]
    fan = client.post(FANS, json=_fan("1", email=" Zoe@Example.COM "), headers=h).json()
    assert fan["email"] == "zoe@example.com"
    cleared = client.patch(f"{FANS}/{fan['id']}", json={"email": "  "}, headers=h).json()
    assert cleared["email"] is None


@pytest.mark.parametrize("platform", ["Only Fans!/../x", "x" * 33, "", "on\u00eflyfans"])
def test_malformed_platforms_are_refused(
    client: TestClient, tenant: dict[str, Any], platform: str
) -> None:
    h = tenant["headers"]
    r = client.post(FANS, json={"platform": platform, "platformFanId": "1"}, headers=h)
    _field_error(r, "platform")
    assert _ids(client, h) == []


def test_a_platform_is_trimmed_and_lower_cased(client: TestClient, tenant: dict[str, Any]) -> None:
    r = client.post(
        FANS, json={"platform": " OnlyFans", "platformFanId": "1"}, headers=tenant["headers"]
    )
    assert r.status_code == 201, r.text
    assert r.json()["platform"] == "onlyfans"


def test_tags_are_one_per_spelling_insensitive_key(
    client: TestClient, tenant: dict[str, Any]
) -> None:
    h = tenant["headers"]
    r = client.post(FANS, json=_fan("1", tags=["VIP", " vip ", "Vip", "whales", " "]), headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["tags"] == ["VIP", "whales"]
    too_long = client.post(FANS, json=_fan("2", tags=["x" * 101]), headers=h)
    assert "at most 100" in _field_error(too_long, "tags")
    too_many = client.post(FANS, json=_fan("3", tags=[f"t{i}" for i in range(201)]), headers=h)
    _field_error(too_many, "tags")


@pytest.mark.parametrize(
    "when",
    ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00", "1899-12-31T23:59:59Z"],
)
def test_dates_outside_the_calendar_are_refused(
    client: TestClient, tenant: dict[str, Any], when: str
) -> None:
    h = tenant["headers"]
    for field in ("subscribedAt", "expiresAt", "lastActiveAt"):
        r = client.post(FANS, json=_fan("1", **{field: when}), headers=h)
        assert "between 1900-01-01 and 9999-12-30" in _field_error(r, field)
    assert _ids(client, h) == []


def test_dates_are_answered_in_utc(client: TestClient, tenant: dict[str, Any]) -> None:
    r = client.post(
        FANS, json=_fan("1", lastActiveAt="2026-01-01T02:00:00+02:00"), headers=tenant["headers"]
    )
    assert r.status_code == 201, r.text
    assert r.json()["lastActiveAt"] == "2026-01-01T00:00:00Z"
