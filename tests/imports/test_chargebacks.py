"""An OnlyFans transaction with ``status: "undo"`` is a chargeback whatever its description
says, and takes its money off the fan's lifetime value."""

from __future__ import annotations

import json
from typing import Any

from tests.imports.upload import fans, post


def _tx(i: int, description: str | None, amount: float, net: float, status: str) -> dict[str, Any]:
    tx: dict[str, Any] = {
        "id": f"tx{i}",
        "createdAt": f"2026-0{i}-01T10:00:00+00:00",
        "amount": amount,
        "fee": round(amount - net, 2),
        "net": net,
        "currency": "USD",
        "status": status,
        "user": {"id": 77, "username": "whale", "name": "Whale"},
    }
    if description is not None:
        tx["description"] = description
    return tx


def test_undo_is_a_chargeback_whatever_the_description(client, tenant) -> None:
    h = tenant["headers"]
    paid = [
        _tx(1, "Tip from <a href='x'>Whale</a>", 50.0, 40.0, "done"),
        _tx(2, "Payment for message from Whale", 20.0, 16.0, "done"),
    ]
    report = post(client, h, json.dumps({"list": paid}).encode()).json()
    assert (report["format"], report["inserted"]) == ("onlyfans_transactions", 2)
    (fan,) = fans(client, h)
    assert fan["lifetimeValueCents"] == 5600
    undone = [
        _tx(3, "Refund: Tip from <a href='x'>Whale</a>", 50.0, 40.0, "undo"),
        _tx(4, None, 20.0, 16.0, "undo"),  # no description at all
    ]
    report = post(client, h, json.dumps({"list": paid + undone}).encode()).json()
    assert (report["inserted"], report["unchanged"], report["rejected"]) == (2, 2, 0), report
    fan = client.get(f"/api/crm/fans/{fan['id']}", headers=h).json()
    assert fan["lifetimeValueCents"] == 0
    purchases = client.get(f"/api/crm/fans/{fan['id']}/purchases", headers=h).json()["items"]
    assert [(p["kind"], p["netCents"]) for p in purchases] == [
        ("chargeback", -1600),
        ("chargeback", -4000),
        ("ppv_message", 1600),
        ("tip", 4000),
    ]


def test_a_payment_still_needs_a_known_description(client, tenant) -> None:
    h = tenant["headers"]
    txs = [_tx(1, "Refund: Tip from Whale", 5.0, 4.0, "done"), _tx(2, None, 5.0, 4.0, "done")]
    report = post(client, h, json.dumps({"list": txs}).encode()).json()
    assert report["rejected"] == 2
    assert [e["column"] for e in report["errors"]] == ["description", "description"]
