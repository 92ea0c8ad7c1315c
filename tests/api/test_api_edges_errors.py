"""Error answers at the edges: a 500 keeps the connection and carries ``X-Request-ID``,
malformed JSON names the body's line and column, and an unknown query parameter is a 422
naming it, on every route (issue 9 §1)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from huntaze.api import create_app
from huntaze.config import Settings
from huntaze.kit.clock import FrozenClock
from tests.api.api_asgi import live_server
from tests.conftest import Tenant

JSON = {"content-type": "application/json"}


@pytest.fixture
def app(settings: Settings, engine: Engine, clock: FrozenClock) -> FastAPI:
    app = create_app(settings, engine, clock)

    @app.get("/api/test-only/boom")
    def boom() -> None:  # a route that fails, for these tests only
        raise RuntimeError("boom")

    return app


def test_a_500_carries_the_request_id(app: FastAPI) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/api/test-only/boom", headers={"X-Request-ID": "req-123"})
    assert r.status_code == 500
    assert r.headers["x-request-id"] == "req-123"
    assert r.json() == {
        "error": {
            "code": "internal_error",
            "message": "Something went wrong on our side",
            "details": [],
        }
    }


def test_after_a_500_the_keep_alive_connection_serves_the_next_request(app: FastAPI) -> None:
    """uvicorn closed the connection when the exception left the app, so the client's next
    request on it failed (or needed a new connection)."""
    with live_server(app) as server, httpx.Client(base_url=server.url) as client:
        boom = client.get("/api/test-only/boom")
        assert boom.status_code == 500
        assert boom.headers["x-request-id"]
        assert boom.json()["error"]["code"] == "internal_error"
        health = client.get("/api/health")
        assert health.status_code == 200
        again = client.get("/api/test-only/boom")
        assert again.status_code == 500
    assert len(server.clients) == 3
    assert len(set(server.clients)) == 1, server.clients  # one TCP connection for all three


@pytest.mark.parametrize(
    ("body", "line", "column"),
    [
        (b'{"platform": "onlyfans",\n "username": "u1",\n "platformFanId": }', 3, 19),
        (b'{"a": ', 1, 7),
        (b"not json", 1, 1),
        ('{"displayName": "Jürgen",\n\n  oops}'.encode(), 3, 3),
    ],
)
def test_malformed_json_names_the_body_line_and_column(
    client: TestClient, tenant: Tenant, body: bytes, line: int, column: int
) -> None:
    r = client.post("/api/crm/fans", content=body, headers={**tenant["headers"], **JSON})
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "invalid_request"
    [detail] = error["details"]
    assert detail["field"] == "body"
    assert detail["line"] == line and detail["column"] == column
    assert f"line {line} column {column}" in detail["message"]


def test_a_body_field_error_names_the_field_and_a_missing_body_names_body(
    client: TestClient, tenant: Tenant
) -> None:
    h = {**tenant["headers"], **JSON}
    r = client.post("/api/crm/fans", content=b"[]", headers=h)
    assert r.status_code == 422
    assert [d["field"] for d in r.json()["error"]["details"]] == ["body"]
    r = client.post("/api/crm/fans", json={"platform": "onlyfans", "username": "u"}, headers=h)
    assert r.status_code == 422
    assert "platformFanId" in [d["field"] for d in r.json()["error"]["details"]]


def test_an_unknown_query_parameter_is_named(client: TestClient, tenant: Tenant) -> None:
    h = tenant["headers"]
    client.post(
        "/api/crm/fans",
        json={"platform": "patreon", "platformFanId": "p1", "username": "u1"},
        headers=h,
    )
    r = client.get("/api/crm/fans?platfrom=onlyfans", headers=h)
    assert r.status_code == 422
    assert r.json()["error"] == {
        "code": "invalid_request",
        "message": "The request is not valid",
        "details": [{"field": "platfrom", "message": "unknown query parameter"}],
    }
    assert client.get("/api/crm/fans?platform=onlyfans", headers=h).json()["items"] == []
    r = client.get("/api/crm/fans?subscription_status=active&limit=5&x=1&x=2", headers=h)
    assert [d["field"] for d in r.json()["error"]["details"]] == ["subscription_status", "x"]


def test_an_unknown_query_parameter_without_a_token_is_a_401(client: TestClient) -> None:
    r = client.get("/api/crm/fans?platfrom=onlyfans")
    assert r.status_code == 401
    r = client.get("/api/crm/fans?platfrom=onlyfans", headers={"Authorization": "Bearer hz_nope"})
    assert r.status_code == 401


def _operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    doc = client.get("/openapi.json").json()
    return [
        (method.upper(), path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def _url(path: str) -> str:
    return path.replace("{", "x").replace("}", "")


def test_every_route_refuses_an_unknown_query_parameter(client: TestClient, tenant: Tenant) -> None:
    operations = _operations(client)
    assert len(operations) > 30
    for method, path, _op in operations:
        r = client.request(method, _url(path) + "?zzUnknown=1", headers=tenant["headers"])
        assert r.status_code == 422, (method, path, r.text)
        assert r.json()["error"]["details"] == [
            {"field": "zzUnknown", "message": "unknown query parameter"}
        ], (method, path)


def test_every_documented_query_parameter_is_accepted(client: TestClient, tenant: Tenant) -> None:
    """The names refused are exactly those ``/openapi.json`` does not document."""
    for method, path, op in _operations(client):
        for param in op.get("parameters", []):
            if param["in"] != "query":
                continue
            name = param["name"]
            r = client.request(method, f"{_url(path)}?{name}=1", headers=tenant["headers"])
            fields = [d.get("field") for d in r.json().get("error", {}).get("details", [])]
            unknown = [
                d
                for d in r.json().get("error", {}).get("details", [])
                if d.get("message") == "unknown query parameter"
            ]
            assert not unknown, (method, path, name, fields)


def test_a_nul_in_a_path_or_query_value_is_a_422_naming_it(
    client: TestClient, tenant: Tenant
) -> None:
    """PostgreSQL refuses NUL in a query parameter (it answered 500, for example on
    ``GET /api/crm/fans/a%00b``); no id holds one, on either database."""
    h = tenant["headers"]
    for method, path, field in [
        ("GET", "/api/crm/fans/a%00b", "fan_id"),
        ("DELETE", "/api/crm/fans/a%00b", "fan_id"),
        ("GET", "/api/crm/fans/a%00b/purchases", "fan_id"),
        ("GET", "/api/crm/fans?q=a%00b", "q"),
        ("GET", "/api/crm/fans?tag=ok&tag=a%00b", "tag"),
        ("GET", "/api/onlyfans/messages/status?messageId=msg_%00", "messageId"),
    ]:
        r = client.request(method, path, headers=h)
        assert r.status_code == 422, (path, r.text)
        [detail] = r.json()["error"]["details"]
        assert detail["field"] == field
        assert "NUL" in detail["message"]
    assert client.get("/api/crm/fans/a%00b").status_code == 401


def test_a_nul_in_the_creator_header_is_an_unknown_creator(
    client: TestClient, tenant: Tenant
) -> None:
    r = client.get("/api/me", headers={**tenant["headers"], "X-Huntaze-Creator": "a\x00b"})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "creator_not_found"
