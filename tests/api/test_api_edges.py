"""Request bodies at the edges: every route has a size limit, refused before the body is read
in full (chunked bodies included), and a caller without a valid token is refused before a
byte of its body is read (issue 9 §1)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from huntaze.api import create_app
from huntaze.config import Settings
from huntaze.kit.clock import FrozenClock
from tests.api.api_asgi import call_asgi, repeat
from tests.conftest import Tenant

MIB = 1024 * 1024
DEFAULT_MAX_BODY_BYTES = MIB  # the limit of JSON routes (kit/body_limit.py)
JSON = {"content-type": "application/json"}


@pytest.fixture
def app(settings: Settings, engine: Engine, clock: FrozenClock) -> FastAPI:
    return create_app(settings, engine, clock)


def _multipart(size: int) -> Iterator[bytes]:
    """A multipart upload of one ``file`` part of ``size`` bytes, in 64 KiB chunks."""
    yield (
        b'--bnd\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\n"
    )
    chunk = b"x" * (64 * 1024)
    for _ in range(size // len(chunk)):
        yield chunk
    yield b"\r\n--bnd--\r\n"


MULTIPART = {"content-type": "multipart/form-data; boundary=bnd"}


def test_json_body_over_the_limit_with_content_length_is_refused_unread(
    app: FastAPI, tenant: Tenant
) -> None:
    size = 2 * MIB
    r = call_asgi(
        app,
        "POST",
        "/api/crm/fans",
        headers={**tenant["headers"], **JSON, "content-length": str(size)},
        chunks=repeat(b" " * MIB, 2),
    )
    assert r.status == 413
    assert r.json()["error"]["code"] == "body_too_large"
    assert r.json()["error"]["details"][0]["limitBytes"] == DEFAULT_MAX_BODY_BYTES
    assert r.chunks_read == 0
    assert "x-request-id" in r.headers


def test_chunked_json_body_is_counted_as_it_streams(app: FastAPI, tenant: Tenant) -> None:
    """No Content-Length (Transfer-Encoding: chunked): reading stops just past the limit."""
    chunk = b" " * (64 * 1024)
    r = call_asgi(
        app,
        "PUT",
        "/api/crm/quick-replies/qr_x",
        headers={**tenant["headers"], **JSON},
        chunks=repeat(chunk, 3200),  # 200 MiB
    )
    assert r.status == 413, r.body
    assert r.json()["error"]["code"] == "body_too_large"
    assert r.bytes_read <= DEFAULT_MAX_BODY_BYTES + len(chunk)


def test_chunked_json_body_over_the_limit_through_the_client(
    client: TestClient, tenant: Tenant
) -> None:
    def body() -> Iterator[bytes]:
        yield b'{"title": "t", "content": "'
        yield b"x" * (DEFAULT_MAX_BODY_BYTES + 1)
        yield b'"}'

    r = client.post("/api/crm/quick-replies", content=body(), headers={**tenant["headers"], **JSON})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "body_too_large"


def test_chunked_upload_over_the_import_limit_is_413_file_too_large(
    client: TestClient, tenant: Tenant, settings: Settings
) -> None:
    """It answered 400 "There was an error parsing the body": FastAPI turned the limit's
    exception, raised inside python-multipart's read, into a 400."""
    size = settings.import_max_bytes + 128 * 1024
    for path in ("/api/crm/import", "/api/onlyfans/import/csv"):
        r = client.post(path, content=_multipart(size), headers={**tenant["headers"], **MULTIPART})
        assert r.status_code == 413, r.text
        error = r.json()["error"]
        assert error["code"] == "file_too_large"
        assert error["details"][0]["field"] == "file"


def test_chunked_upload_stops_being_read_past_the_import_limit(
    app: FastAPI, tenant: Tenant, settings: Settings
) -> None:
    limit = settings.import_max_bytes + 64 * 1024
    r = call_asgi(
        app,
        "POST",
        "/api/crm/import",
        headers={**tenant["headers"], **MULTIPART},
        chunks=_multipart(100 * MIB),
    )
    assert r.status == 413
    assert r.json()["error"]["code"] == "file_too_large"
    assert r.bytes_read <= limit + 64 * 1024 + 200


def test_an_import_under_its_limit_but_over_the_json_limit_is_read(
    client: TestClient, tenant: Tenant, settings: Settings
) -> None:
    assert settings.import_max_bytes > DEFAULT_MAX_BODY_BYTES
    rows = ["Name,Email"] + [f"Fan {i},fan{i}@example.com" for i in range(60_000)]
    data = ("\n".join(rows) + "\n").encode()
    assert DEFAULT_MAX_BODY_BYTES < len(data) < settings.import_max_bytes
    r = client.post(
        "/api/crm/import",
        files={"file": ("fans.csv", data, "text/csv")},
        data={"format": "no-such-format"},  # refused once read, so no import runs
        headers=tenant["headers"],
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] != "file_too_large"


def test_a_bulk_of_100000_fan_ids_fits_its_limit(client: TestClient, tenant: Tenant) -> None:
    """``fanIds`` allows 100,000 ids (3.4 MB of JSON): the bulk route has a larger limit."""
    ids = [f"fan_{i:011x}{i:016x}" for i in range(100_000)]
    body = json.dumps({"platform": "onlyfans", "template": "Hi", "recipients": {"fanIds": ids}})
    assert len(body) > 3 * DEFAULT_MAX_BODY_BYTES
    r = client.post(
        "/api/messages/bulk", content=body.encode(), headers={**tenant["headers"], **JSON}
    )
    assert r.status_code != 413, r.text


@pytest.mark.parametrize(
    "auth",
    [
        pytest.param(lambda t: {}, id="no-token"),
        pytest.param(lambda t: {"Authorization": "Bearer nope"}, id="not-a-token"),
        pytest.param(lambda t: {"Authorization": "Bearer hz_" + "x" * 43}, id="unknown-token"),
    ],
)
@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_an_unauthenticated_200_mb_body_is_refused_unread(
    app: FastAPI,
    tenant: Tenant,
    auth: Callable[[Tenant], dict[str, str]],
    declared: bool,
) -> None:
    """It was read and parsed before the 401 (+556 MB of memory)."""
    headers = {**auth(tenant), **JSON}
    if declared:
        headers["content-length"] = str(200 * MIB)
    r = call_asgi(app, "POST", "/api/crm/fans", headers=headers, chunks=repeat(b" " * MIB, 200))
    assert r.status == 401, r.body
    assert r.json()["error"]["code"] == "unauthenticated"
    assert r.chunks_read == 0


def test_an_unauthenticated_upload_is_refused_unread(app: FastAPI) -> None:
    r = call_asgi(app, "POST", "/api/crm/import", headers=MULTIPART, chunks=_multipart(50 * MIB))
    assert r.status == 401
    assert r.chunks_read == 0


def test_another_creator_is_refused_before_the_body(app: FastAPI, tenant: Tenant) -> None:
    headers = {**tenant["headers"], **JSON, "X-Huntaze-Creator": "no-such-creator"}
    r = call_asgi(app, "POST", "/api/crm/fans", headers=headers, chunks=repeat(b" " * MIB, 50))
    assert r.status == 404
    assert r.json()["error"]["code"] == "creator_not_found"
    assert r.chunks_read == 0


def test_an_authenticated_body_is_read_and_served(
    client: TestClient, make_tenant: Callable[..., Tenant]
) -> None:
    """The token checked before the body is the request's principal: writes land on the
    creator named, and a role without the permission still gets 403."""
    owner = make_tenant()
    analyst = make_tenant("analyst", handle=owner["handle"])
    fan: dict[str, Any] = {"platform": "onlyfans", "platformFanId": "p1", "username": "u1"}
    r = client.post("/api/crm/fans", json=fan, headers=owner["headers"])
    assert r.status_code == 201, r.text
    listed = client.get("/api/crm/fans", headers=owner["headers"]).json()["items"]
    assert [f["platformFanId"] for f in listed] == ["p1"]
    r = client.post(
        "/api/crm/fans", json={**fan, "platformFanId": "p2"}, headers=analyst["headers"]
    )
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"
