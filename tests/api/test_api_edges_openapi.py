"""``/openapi.json`` documents the answers the edges give on every operation: 422 (with the
``{"error": ...}`` envelope, never FastAPI's ``{"detail": ...}``), 413 where a body is taken,
401 (and 400, 404) where a token is (issue 9 §1, for schemathesis's response checks)."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Tenant

ERROR_REF = "#/components/schemas/ErrorResponse"


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def _schema_ref(response: dict[str, Any]) -> str | None:
    ref: str | None = response["content"]["application/json"]["schema"].get("$ref")
    return ref


def test_every_operation_documents_its_edge_errors(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in json.dumps(doc)
    assert {"ErrorResponse", "ErrorBody"} <= set(doc["components"]["schemas"])
    for method, path, op in _operations(doc):
        responses = op["responses"]
        headers = {p["name"].lower() for p in op.get("parameters", []) if p["in"] == "header"}
        wanted = {"422"}
        if "requestBody" in op:
            wanted.add("413")
        if "authorization" in headers:
            wanted.add("401")
        if "x-huntaze-creator" in headers:
            wanted |= {"400", "404"}
        for code in wanted:
            assert code in responses, (method, path, code)
            assert _schema_ref(responses[code]) == ERROR_REF, (method, path, code)


def test_the_documented_errors_are_what_the_app_answers(client: TestClient, tenant: Tenant) -> None:
    """A 401 and a 422 of ``GET /api/me`` (a route without a router's error list) have the
    documented shape."""
    doc = client.get("/openapi.json").json()
    me = doc["paths"]["/api/me"]["get"]["responses"]
    assert {"401", "422", "400", "404"} <= set(me)
    r = client.get("/api/me")
    assert r.status_code == 401 and set(r.json()["error"]) == {"code", "message", "details"}
    r = client.get("/api/me?x=1", headers=tenant["headers"])
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "x"
    r = client.get("/api/me", headers={**tenant["headers"], "X-Huntaze-Creator": "nobody"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "creator_not_found"
