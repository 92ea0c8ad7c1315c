"""Imports apply the API's value rules: a bad value rejects its row (line, column, reason),
the import goes on, nothing answers 500 (the NUL cases matter on PostgreSQL)."""

from __future__ import annotations

import json

import pytest

from tests.imports.upload import PATREON_HEADER, fans, member, post, where

MAPPING = {
    "key": "id",
    "username": "handle",
    "email": "email",
    "displayName": "name",
    "tags": "tags",
    "custom.note": "note",
}


def test_bad_values_reject_their_rows_and_the_import_goes_on(client, tenant) -> None:
    h = tenant["headers"]
    rows = [
        "id,handle,email,name,tags,note",
        "f1,ana,ana@example.com,Ana,vip,hello",  # 2
        "f2,bo,bo@example.com,B\x00o,,",  # 3: NUL in a name
        "f" + "3" * 300 + ",cy,cy@example.com,Cy,,",  # 4: key over 255
        "f4,dee," + "d" * 320 + "@example.com,Dee,,",  # 5: email over 320
        'f5,eve,"eve@example.com\r\nBcc: all@example.com",Eve,,',  # 6-7: CRLF in an email
        "f6,fay,fay@example.com,Fay," + "t" * 101 + ",",  # 8: tag over 100
        "f7,gus,gus@example.com,Gus,,n\x00te",  # 9: NUL in a custom field
        "f8,hal,hal@example.com," + "H" * 256 + ",,",  # 10: display name over 255
        "f9,ivy,IVY@Example.com,Ivy,,",  # 11
    ]
    body = "\r\n".join(rows).encode() + b"\r\n"
    r = post(client, h, body, platform="fansly", mapping=MAPPING)
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["inserted"], report["rejected"]) == (2, 7)
    assert where(report) == [
        (3, "name"),
        (4, "id"),
        (5, "email"),
        (6, "email"),
        (8, "tags"),
        (9, "note"),
        (10, "name"),
    ]
    reasons = [e["reason"] for e in report["errors"]]
    assert "NUL" in reasons[0] and "255" in reasons[1] and "320" in reasons[2]
    assert "line breaks" in reasons[3] and "100" in reasons[4] and "NUL" in reasons[5]
    stored = {f["platformFanId"]: f for f in fans(client, h)}
    assert sorted(stored) == ["f1", "f9"]
    assert stored["f9"]["email"] == "ivy@example.com"
    assert stored["f1"]["platform"] == "fansly"


def test_a_bad_row_deep_in_a_big_file_is_reported_and_every_other_row_kept(client, tenant) -> None:
    # batches of 7 (conftest): the bad row comes after two committed batches
    h = tenant["headers"]
    body = PATREON_HEADER + "".join(
        member(str(i), f"Fan {i}", tier="G\x00ld" if i == 17 else "Gold") for i in range(1, 31)
    )
    r = post(client, h, body.encode())
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["inserted"], report["rejected"]) == (29, 1)
    assert where(report) == [(18, "Tier")]
    assert len(fans(client, h, platform="patreon")) == 29


def _of(*items: dict) -> bytes:  # type: ignore[type-arg]
    return json.dumps({"list": list(items), "hasMore": False}).encode()


def test_onlyfans_json_values_the_columns_cannot_hold_are_rejected(client, tenant) -> None:
    h = tenant["headers"]
    fans_json = _of(
        {"id": 1, "username": "ok", "name": "Fine"},
        {"id": 2, "username": "nul\u0000", "name": "Nul"},
        {"id": 3, "username": "lone", "name": "Bad \ud800 text"},
        {"id": 4, "username": "u4", "listsStates": [{"name": "L" * 101, "hasUser": True}]},
        {"id": 5, "username": "u5", "displayName": "x\u0000"},
    )
    report = post(client, h, fans_json, format="onlyfans_fans").json()
    assert report["format"] == "onlyfans_fans"
    assert (report["inserted"], report["rejected"]) == (1, 4)
    assert where(report) == [(1, "username"), (1, "name"), (1, "listsStates"), (1, "displayName")]
    tx = {
        "id": "t1",
        "createdAt": "2026-01-01T00:00:00+00:00",
        "amount": 10**20,
        "net": 1,
        "currency": "USD",
        "status": "done",
        "description": "Tip from x",
        "user": {"id": 9, "username": "big"},
    }
    fine = {**tx, "id": "t2", "amount": 5, "net": 4}
    r = post(client, h, _of(tx, fine))
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["inserted"], report["rejected"]) == (1, 1)
    assert where(report) == [(1, "amount")]


@pytest.mark.parametrize(
    "platform", ["Only Fans!/../x", "x" * 1000, "only fans", "-onlyfans", "\x00", "ä"]
)
def test_a_bad_platform_answers_422_naming_it_and_writes_nothing(client, tenant, platform) -> None:
    h = tenant["headers"]
    r = post(client, h, b"id\n1\n", platform=platform, mapping={"key": "id"})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["details"][0]["field"] == "platform"
    assert fans(client, h) == []


def test_platform_is_normalised_like_the_api_does(client, tenant) -> None:
    h = tenant["headers"]
    r = post(client, h, b"id\n1\n", platform=" Fansly ", mapping={"key": "id"})
    assert r.status_code == 200, r.text
    assert [f["platform"] for f in fans(client, h)] == ["fansly"]


@pytest.mark.parametrize(
    "mapping",
    [
        {"key": "id", "custom." + "n" * 100_000: "note"},  # a 100 KB custom field name
        {"key": "id", "custom." + "n" * 300: "note"},  # over 255 characters
        {"key": "id", "custom.a\x00b": "note"},
    ],
)
def test_custom_field_names_are_bounded(client, tenant, mapping) -> None:
    h = tenant["headers"]
    r = post(client, h, b"id,note\n1,x\n", mapping=mapping)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] in ("invalid_mapping", "invalid_file")
    assert fans(client, h) == []


def test_dates_outside_the_stored_range_reject_their_rows(client, tenant) -> None:
    h = tenant["headers"]
    body = b"id,when\n1,0001-01-01\n2,9999-12-31T23:00:00-05:00\n3,2025-06-01\n"
    r = post(client, h, body, mapping={"key": "id", "subscribedAt": "when"})
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["inserted"], where(report)) == (1, [(2, "when"), (3, "when")])
    assert fans(client, h)[0]["subscribedAt"] == "2025-06-01T00:00:00Z"
