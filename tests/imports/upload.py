"""Helpers for the import tests that go through the API (``POST /api/crm/import``)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

PATREON_HEADER = (
    "Name,Email,Discord,Patron Status,Follows You,Free Member,Free Trial,Lifetime Amount,"
    "Pledge Amount,Charge Frequency,Tier,Addressee,Street,City,State,Zip,Country,Phone,"
    "Patronage Since Date,Last Charge Date,Last Charge Status,Additional Details,User ID,"
    "Last Updated,Currency,Max Posts,Access Expiration,Next Charge Date,Full country name,"
    "Subscription Source\r\n"
)


def member(uid: str, name: str, note: str = "", tier: str = "Gold") -> str:
    """A 30-field Patreon member row (the header above), ending with CRLF."""
    return (
        f'"{name}",m{uid}@example.com,,Active patron,Yes,No,No,10.00,5.00,monthly,{tier},,,,,,'
        f'FR,,2024-01-02 03:04:05,2026-10-01 00:00:00,Paid,"{note}",{uid},2026-10-01 00:00:00,'
        f"EUR,,,,France,\r\n"
    )


def sample(name: str) -> bytes:
    """A shipped demo sample export."""
    return (resources.files("huntaze.demo") / "samples" / name).read_bytes()


def post(
    client: Any, headers: Any, content: bytes, url: str = "/api/crm/import", **form: Any
) -> Any:
    """Upload ``content`` as the multipart ``file``; dict form values are sent as JSON."""
    data = {k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in form.items()}
    return client.post(url, files={"file": ("upload", content)}, data=data, headers=headers)


def fans(client: Any, headers: Any, **params: Any) -> list[dict[str, Any]]:
    """Every fan of the tenant (one page of 100)."""
    page = client.get("/api/crm/fans", params={"limit": 100, **params}, headers=headers)
    assert page.status_code == 200, page.text
    items: list[dict[str, Any]] = page.json()["items"]
    return items


def where(report: dict[str, Any]) -> list[tuple[int, str | None]]:
    """``(line, column)`` of each rejected row of an import report."""
    return [(e["line"], e["column"]) for e in report["errors"]]
