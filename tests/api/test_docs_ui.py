"""``/docs`` and ``/redoc`` work offline: every asset they load is served by Huntaze itself
(issue 9: ``/docs`` loaded Swagger UI from a CDN, so it rendered nothing offline)."""

from __future__ import annotations

import re

import pytest

#: The places an HTML page or its inline script names something the browser will load.
_REFERENCES = re.compile(
    r"""(?:\b(?:src|href|spec-url)\s*=\s*["']([^"']+)["'])|(?:\burl\s*:\s*["']([^"']+)["'])"""
)


def _references(html: str) -> list[str]:
    return [a or b for a, b in _REFERENCES.findall(html)]


@pytest.mark.parametrize(("page", "marker"), [("/docs", "SwaggerUIBundle"), ("/redoc", "<redoc")])
def test_docs_pages_load_nothing_from_another_host(client, page: str, marker: str) -> None:
    r = client.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert marker in html
    assert "http://" not in html and "https://" not in html, html
    assert not re.search(r"""["'(=]\s*//[A-Za-z0-9]""", html), "a scheme-relative URL"
    refs = _references(html)
    assert "/openapi.json" in refs
    assert any(ref.endswith(".js") for ref in refs), refs
    for ref in refs:
        assert ref.startswith("/"), ref
        asset = client.get(ref)
        assert asset.status_code == 200, (ref, asset.status_code)
        assert asset.content, ref
        if ref.endswith(".js"):
            assert "javascript" in asset.headers["content-type"], ref
        elif ref.endswith(".css"):
            assert asset.headers["content-type"].startswith("text/css"), ref
    assert client.get("/openapi.json").json()["info"]["title"] == "Huntaze"


def test_swagger_ui_oauth2_redirect_is_served(client) -> None:
    assert client.get("/docs/oauth2-redirect").status_code == 200


def test_the_root_leads_to_the_docs(client) -> None:
    r = client.get("/", follow_redirects=False)
    assert r.status_code in (200, 301, 302, 303, 307, 308)
    landed = client.get("/")
    assert landed.status_code == 200
    assert landed.url.path == "/docs" or "/docs" in landed.text


def test_swagger_ui_calls_no_online_validator(client) -> None:
    html = client.get("/docs").text
    assert re.search(r'"validatorUrl"\s*:\s*null', html), html
