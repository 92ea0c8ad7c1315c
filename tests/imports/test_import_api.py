"""Imports through the API: every format, exact counts, idempotence, updates, bad rows, limits."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from huntaze.demo import SAMPLES

SAMPLE_ROWS = {
    "patreon_members.csv": 24,
    "substack_email_list.csv": 26,
    "kofi_payments.csv": 30,
    "onlyfans_fans.json": 24,
    "onlyfans_transactions.json": 36,
    "instagram_followers_1.json": 30,
    "tiktok_user_data.json": 25,
    "tiktok_Follower.txt": 20,
    "generic_fans.csv": 20,
}


def _sample(name: str) -> bytes:
    return (resources.files("huntaze.demo") / "samples" / name).read_bytes()


def _post(client, h, content, name="f", url="/api/crm/import", **form):  # type: ignore[no-untyped-def]
    data = {k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in form.items()}
    return client.post(url, files={"file": (name, content)}, data=data, headers=h)


@pytest.mark.parametrize(("filename", "fmt", "platform", "mapping"), SAMPLES)
def test_every_format_imports_with_exact_counts_and_reimports_unchanged(
    client, tenant, filename, fmt, platform, mapping
) -> None:
    h = tenant["headers"]
    form = {"platform": platform, "mapping": mapping} if mapping else {}
    # named format is not needed: detection finds every format but the generic CSV
    first = _post(client, h, _sample(filename), filename, **form)
    assert first.status_code == 200, first.text
    expected = SAMPLE_ROWS[filename]
    assert first.json() == {
        "format": fmt,
        "encoding": "utf-8",
        "inserted": expected,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "errors": [],
    }
    again = _post(client, h, _sample(filename), filename, format=fmt, **form).json()
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, expected)


def test_demo_files_together_reimport_unchanged(client, tenant) -> None:
    h = tenant["headers"]
    for filename, fmt, platform, mapping in SAMPLES:
        form = {"platform": platform, "mapping": mapping} if mapping else {}
        assert _post(client, h, _sample(filename), filename, format=fmt, **form).status_code == 200
    for filename, fmt, platform, mapping in SAMPLES:
        form = {"platform": platform, "mapping": mapping} if mapping else {}
        report = _post(client, h, _sample(filename), filename, format=fmt, **form).json()
        assert (report["inserted"], report["updated"]) == (0, 0), (filename, report)


PATREON_HEADER = (
    "\ufeffName,Email,Discord,Patron Status,Follows You,Free Member,Free Trial,Lifetime Amount,"
    "Pledge Amount,Charge Frequency,Tier,Addressee,Street,City,State,Zip,Country,Phone,"
    "Patronage Since Date,Last Charge Date,Last Charge Status,Additional Details,User ID,"
    "Last Updated,Currency,Max Posts,Access Expiration,Next Charge Date,Full country name,"
    "Subscription Source\r\n"
)


def _member(
    uid: str, name: str, lifetime: str, note: str = "", status: str = "Active patron"
) -> str:
    return (
        f'"{name}",{uid}@example.com,,{status},Yes,No,No,{lifetime},5.00,monthly,Gold,,,,,,FR,,'
        f'2024-01-02 03:04:05.123456,2026-10-01 00:00:00,Paid,"{note}",{uid},2026-10-01 00:00:00,'
        f"EUR,,,,France,\r\n"
    )


def test_newer_export_updates_changed_fans_only_and_never_duplicates(client, tenant) -> None:
    h = tenant["headers"]
    v1 = (
        PATREON_HEADER
        + _member("1", "Ana", "10.00")
        + _member("2", "Bo", "20.00")
        + _member("3", "Cy", "5")
    )
    r1 = _post(client, h, v1.encode()).json()
    assert (r1["inserted"], r1["updated"], r1["unchanged"]) == (3, 0, 0)
    v2 = (
        PATREON_HEADER
        + _member("1", "Ana", "10.00")
        + _member("2", "Bo", "25.50")
        + _member("3", "Cy", "5.00")
        + _member("4", "Dee", "1.00")
    )
    r2 = _post(client, h, v2.encode()).json()
    assert (r2["inserted"], r2["updated"], r2["unchanged"]) == (1, 1, 2)
    fans = client.get("/api/crm/fans", params={"platform": "patreon"}, headers=h).json()
    assert len(fans["items"]) == 4
    bo = next(f for f in fans["items"] if f["displayName"] == "Bo")
    assert bo["lifetimeValueCents"] == 2550 and bo["currency"] == "EUR"
    assert bo["subscribedAt"] == "2024-01-02T03:04:05.123456Z"
    assert bo["customFields"]["tier"] == "Gold"


def test_bad_rows_are_reported_and_valid_rows_kept(client, tenant) -> None:
    h = tenant["headers"]
    body = (
        PATREON_HEADER
        + _member(
            "1", "Zoë, the \u201cfirst\u201d", "10.00", note="line one\r\nline two"
        )  # lines 2-3
        + _member("2", "Bad Amount", "ten")  # line 4
        + _member("3", "李小龙", "7.25")  # line 5
        + '"No Key",,,Active patron,Yes,No,No,1.00,1.00,monthly,,,,,,,,,,,,,,,,,,,,\r\n'  # line 6
    )
    r = _post(client, h, body.encode())
    assert r.status_code == 200
    report = r.json()
    assert (report["inserted"], report["rejected"]) == (2, 2)
    assert [(e["line"], e["column"]) for e in report["errors"]] == [
        (4, "Lifetime Amount"),
        (6, "User ID"),
    ]
    assert all(e["reason"] for e in report["errors"])
    names = {f["displayName"] for f in client.get("/api/crm/fans", headers=h).json()["items"]}
    assert names == {"Zoë, the \u201cfirst\u201d", "李小龙"}


def test_transactions_derive_lifetime_value_by_kind_with_chargebacks(client, tenant) -> None:
    h = tenant["headers"]

    def tx(i, desc, amount, net, status="done"):  # type: ignore[no-untyped-def]
        return {
            "id": f"tx{i}",
            "createdAt": f"2026-0{i}-01T10:00:00.250000+00:00",
            "amount": amount,
            "fee": round(amount - net, 2),
            "net": net,
            "currency": "USD",
            "status": status,
            "description": desc,
            "user": {"id": 42, "username": "whale", "name": "Wh\u00e4le"},
        }

    txs = {
        "list": [
            tx(1, "Subscription from <a href='x'>Whäle</a>", 9.99, 7.99),
            tx(2, "Tip from <b>Whäle</b>", 50.0, 40.0),
            tx(3, "Payment for message from Whäle", 15.0, 12.0),
            tx(4, "Tip from Whäle", 20.0, 16.0, status="undo"),
            tx(5, "Post purchase by Whäle", 5.0, 4.0, status="loading"),
        ]
    }
    report = _post(client, h, json.dumps(txs).encode(), "tx.json").json()
    assert report["format"] == "onlyfans_transactions"
    assert (report["inserted"], report["rejected"]) == (4, 1)
    assert report["errors"][0]["reason"].startswith("pending")
    fan = client.get("/api/crm/fans", params={"q": "whale"}, headers=h).json()["items"][0]
    assert fan["lifetimeValueCents"] == 799 + 4000 + 1200 - 1600
    assert fan["lastActiveAt"] == "2026-04-01T10:00:00.250000Z"
    kinds = [
        p["kind"]
        for p in client.get(f"/api/crm/fans/{fan['id']}/purchases", headers=h).json()["items"]
    ]
    assert kinds == ["chargeback", "ppv_message", "tip", "subscription"]
    # a fans list giving a total does not override the value derived from payments
    fans_json = {
        "list": [
            {
                "id": 42,
                "username": "whale",
                "name": "Whäle",
                "subscribedOnData": {"totalSumm": 999.0},
            }
        ],
        "hasMore": False,
    }
    assert (
        _post(client, h, json.dumps(fans_json).encode(), "fans.json").json()["format"]
        == "onlyfans_fans"
    )
    fan = client.get(f"/api/crm/fans/{fan['id']}", headers=h).json()
    assert fan["lifetimeValueCents"] == 4399
    again = _post(client, h, json.dumps(txs).encode(), "tx.json").json()
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 4)


def test_consent_opt_out_from_substack_is_never_reverted_by_an_import(client, tenant) -> None:
    h = tenant["headers"]
    header = "email,active_subscription,expiry,plan,email_disabled,created_at,first_payment_at\n"
    off = header + "ana@example.com,true,,monthly,true,2024-02-01T10:00:00.000Z,\n"
    on = header + "ana@example.com,true,,monthly,false,2024-02-01T10:00:00.000Z,\n"
    assert _post(client, h, off.encode()).json()["inserted"] == 1
    fan = client.get("/api/crm/fans", headers=h).json()["items"][0]
    assert fan["consent"] == "opted_out"
    _post(client, h, on.encode())
    assert client.get(f"/api/crm/fans/{fan['id']}", headers=h).json()["consent"] == "opted_out"


def test_onlyfans_route_takes_json_and_mapped_csv(client, tenant) -> None:
    h = tenant["headers"]
    r = _post(client, h, _sample("onlyfans_fans.json"), url="/api/onlyfans/import/csv")
    assert r.status_code == 200 and r.json()["inserted"] == 24
    csv_body = "User,Handle,Spent\n9001,neo,12.50\n9002,trinity,3\n"
    r = _post(
        client,
        h,
        csv_body.encode(),
        url="/api/onlyfans/import/csv",
        mapping={"key": "User", "username": "Handle", "lifetimeValue": "Spent"},
    )
    assert r.json()["inserted"] == 2
    neo = client.get("/api/crm/fans", params={"q": "neo"}, headers=h).json()["items"][0]
    assert (neo["platform"], neo["platformFanId"], neo["lifetimeValueCents"]) == (
        "onlyfans",
        "9001",
        1250,
    )


@pytest.mark.parametrize(
    ("content", "form", "code"),
    [
        (b"a,b\n1,2\n", {}, "format_not_detected"),
        (b"a,b\n1,2\n", {"format": "myspace"}, "unknown_format"),
        (b"a,b\n1,2\n", {"mapping": "{not json"}, "invalid_mapping"),
        (b"a,b\n1,2\n", {"mapping": {"key": "missing"}}, "invalid_file"),
        (b"email,plan\n", {"format": "patreon_members"}, "invalid_file"),
    ],
)
def test_unusable_files_answer_422_with_a_code(client, tenant, content, form, code) -> None:
    r = _post(client, tenant["headers"], content, **form)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == code


def test_too_large_upload_answers_413_and_writes_nothing(client, tenant, settings) -> None:
    big = PATREON_HEADER.encode() + _member("1", "A", "1").encode() * (
        settings.import_max_bytes // 100
    )
    r = _post(client, tenant["headers"], big)
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "file_too_large"
    assert client.get("/api/crm/fans", headers=tenant["headers"]).json()["items"] == []


def test_analysts_and_chatters_cannot_import(client, make_tenant, sessions, clock) -> None:
    from huntaze.auth.tokens import create_token_for

    owner = make_tenant()
    for role in ("analyst", "chatter"):
        with sessions() as s:
            secret = create_token_for(s, owner["handle"], clock.now(), role=role).secret
            s.commit()
        r = _post(client, {"Authorization": f"Bearer {secret}"}, _sample("patreon_members.csv"))
        assert r.status_code == 403
