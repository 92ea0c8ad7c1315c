"""Errors of the file or request as a whole answer 4xx with a code and write nothing: the
wrong format, nesting too deep, a mapping nested or sized without bound, an upload over the
limit."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest

from huntaze.imports.base import ImportFormatError
from huntaze.imports.formats import instagram, onlyfans, tiktok
from huntaze.imports.service import import_stream
from huntaze.kit.errors import ApiError
from tests.imports.upload import PATREON_HEADER, fans, member, post, sample

SEED = "/api/onlyfans/import/csv"
DEEP = 100_000


@pytest.mark.parametrize(
    "parser",
    [onlyfans.make_fans_parser(), onlyfans.make_transactions_parser(), instagram.make_parser()],
)
def test_json_without_the_array_is_a_whole_file_error(parser: Any) -> None:
    with pytest.raises(ImportFormatError, match=r"^expected a JSON array") as info:
        list(parser.parse(io.BytesIO(b'{"data": 1}')))
    assert info.value.line == 1
    with pytest.raises(ImportFormatError, match=r"^invalid JSON: empty document"):
        list(parser.parse(io.BytesIO(b"")))
    with pytest.raises(ImportFormatError, match="no 'FansList' array found"):
        list(tiktok.make_json_parser().parse(io.BytesIO(b'{"Profile": {"ProfileMap": {}}}')))


@pytest.mark.parametrize(
    ("filename", "named"),
    [
        ("instagram_followers_1.json", "onlyfans_fans"),
        ("onlyfans_fans.json", "instagram_followers"),
        ("onlyfans_fans.json", "onlyfans_transactions"),
        ("onlyfans_fans.json", "tiktok_followers_txt"),
        ("onlyfans_fans.json", "tiktok_followers_json"),
        ("onlyfans_fans.json", "patreon_members"),
        ("patreon_members.csv", "onlyfans_fans"),
        ("tiktok_Follower.txt", "instagram_followers"),
    ],
)
def test_the_wrong_format_is_a_422_invalid_file(client, tenant, filename, named) -> None:
    h = tenant["headers"]
    for url in ("/api/crm/import", SEED):
        r = post(client, h, sample(filename), url=url, format=named)
        assert r.status_code == 422, (url, r.text)
        assert r.json()["error"]["code"] == "invalid_file"
    assert fans(client, h) == []


def test_a_file_in_no_format_named_as_follower_txt_is_a_422(client, tenant) -> None:
    h = tenant["headers"]
    r = post(client, h, b"Followers\n\nnothing here\n", format="tiktok_followers_txt")
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid_file"


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (b"[" * DEEP + b"]" * DEEP, "instagram_followers"),
        (b'{"list": [' + b"[" * DEEP + b"]" * DEEP + b"]}", "onlyfans_fans"),
        (b'{"list": [' + b'{"a":' * DEEP + b"1" + b"}" * DEEP + b"]}", "onlyfans_transactions"),
        (b'{"x": ' + b"[" * DEEP + b"]" * DEEP + b"}", "tiktok_followers_json"),
    ],
)
def test_nesting_too_deep_is_a_422_invalid_file(client, tenant, content, named) -> None:
    h = tenant["headers"]
    for url in ("/api/crm/import", SEED):
        r = post(client, h, content, url=url, format=named)
        assert r.status_code == 422, (url, r.text)
        error = r.json()["error"]
        assert error["code"] == "invalid_file" and "too deep" in error["message"]
        assert error["details"][0]["line"] == 1
    assert fans(client, h) == []


@pytest.mark.parametrize(
    "mapping",
    [
        '{"a":' * DEEP + '"x"' + "}" * DEEP,
        "[" * DEEP + "]" * DEEP,
        '{"key": "id", "custom.x": "' + "y" * 70_000 + '"}',
        json.dumps({"key": "id", "custom.x": {"nested": "no"}}),
    ],
    ids=["object-100000-deep", "array-100000-deep", "70000-chars", "not-strings"],
)
def test_a_mapping_beyond_the_bounds_is_a_422_naming_it(client, tenant, mapping) -> None:
    h = tenant["headers"]
    for url in ("/api/crm/import", SEED):
        r = post(client, h, b"id\n1\n", url=url, mapping=mapping)
        assert r.status_code == 422, (url, r.text[:300])
        error = r.json()["error"]
        assert error["code"] == "invalid_mapping"
        assert error["details"][0]["field"] == "mapping"
    assert fans(client, h) == []


def test_the_service_refuses_a_stream_over_its_limit_before_writing(engine, clock) -> None:
    from huntaze.auth.tokens import get_or_create_creator
    from huntaze.db.engine import make_sessionmaker

    with make_sessionmaker(engine)() as session:
        creator = get_or_create_creator(session, f"c{uuid.uuid4().hex[:12]}", clock.now())
        session.commit()
        creator_id = creator.id
    body = (PATREON_HEADER + "".join(member(str(i), f"Fan {i}") for i in range(50))).encode()
    with pytest.raises(ApiError) as info:
        import_stream(engine, creator_id, io.BytesIO(body), clock, batch_size=7, max_bytes=2000)
    assert (info.value.status, info.value.code) == (413, "file_too_large")
    report = import_stream(engine, creator_id, io.BytesIO(body), clock, max_bytes=len(body))
    assert (report.inserted, report.encoding) == (50, "utf-8")


def test_a_chunked_upload_over_the_limit_answers_413(client, tenant, settings) -> None:
    boundary = "hzboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="m.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    row = member("1", "A").encode()
    data = PATREON_HEADER.encode() + row * (settings.import_max_bytes // len(row) + 10)
    body = head + data + f"\r\n--{boundary}--\r\n".encode()

    def chunks():  # type: ignore[no-untyped-def]  # no Content-Length: chunked
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    headers = {**tenant["headers"], "Content-Type": f"multipart/form-data; boundary={boundary}"}
    r = client.post("/api/crm/import", content=chunks(), headers=headers)
    assert r.status_code == 413, r.text
    assert r.json()["error"]["code"] == "file_too_large"
    assert fans(client, tenant["headers"]) == []
