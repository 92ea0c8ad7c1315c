"""Sending accounts through the API: URLs checked at create and PATCH time, credentials
masked, PATCH as a service that bumps the account's config version and answers 409 for a taken
name. What happens when messages go through an account (connect-time checks, what a relay's
answer leaves in ``lastError``, routing to an active account): test_account_guard_sends.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from huntaze.api import create_app
from huntaze.config import Settings
from huntaze.models.messaging import SendingAccount
from tests.netfakes import Resolver

ACCOUNTS = "/api/messaging/accounts"


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Resolver:
    return Resolver.install(monkeypatch)


@pytest.fixture
def strict_settings(settings: Settings) -> Settings:
    """The test settings with private targets refused, as on a default install."""
    return settings.model_copy(update={"allow_private_urls": False})


@pytest.fixture
def strict(strict_settings: Settings, engine: Any, clock: Any) -> Iterator[TestClient]:
    app = create_app(strict_settings, engine, clock)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _account(client: TestClient, tenant: dict[str, Any], **body: Any) -> Any:
    values = {"platform": "onlyfans", "name": "of", "secret": "relay-secret", **body}
    return client.post(ACCOUNTS, json=values, headers=tenant["headers"])


# -- validation at create and PATCH -------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://127.0.0.1:8080/relay", "loopback"),
        ("http://[::1]:8080/relay", "loopback"),
        ("http://10.0.0.7/relay", "private"),
        ("http://[::ffff:127.0.0.1]/relay", "loopback"),
        ("http://2130706433/relay", "loopback"),
    ],
)
def test_private_relay_urls_are_refused_at_create(
    strict: TestClient, tenant: dict[str, Any], url: str, rule: str
) -> None:
    r = _account(strict, tenant, settings={"relayUrl": url})
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "unsafe_url"
    assert error["details"] == [{"field": "settings.relayUrl"}]
    assert f"a {rule} address" in error["message"]
    assert strict.get(ACCOUNTS, headers=tenant["headers"]).json()["items"] == []


def test_private_urls_are_refused_at_patch_and_nothing_changes(
    strict: TestClient, tenant: dict[str, Any], resolver: Resolver
) -> None:
    resolver.set("relay.public.test", ["93.184.216.34"])
    created = _account(strict, tenant, settings={"relayUrl": "https://relay.public.test/r"})
    assert created.status_code == 201, created.text
    account = created.json()
    for field, url in (
        ("relayUrl", "http://169.254.169.254/"),
        ("relayUrl", "http://127.0.0.1:8080"),
        ("smtpUrl", "smtp://127.0.0.1:25"),
    ):
        r = strict.patch(
            f"{ACCOUNTS}/{account['id']}",
            json={"settings": {field: url}},
            headers=tenant["headers"],
        )
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "unsafe_url"
        assert r.json()["error"]["details"] == [{"field": f"settings.{field}"}]
    again = strict.get(f"{ACCOUNTS}/{account['id']}", headers=tenant["headers"]).json()
    assert again["settings"] == {"relayUrl": "https://relay.public.test/r"}
    assert again["updatedAt"] == account["updatedAt"]


def test_a_name_resolving_to_a_private_address_is_refused(
    strict: TestClient, tenant: dict[str, Any], resolver: Resolver
) -> None:
    resolver.set("intranet.test", ["93.184.216.34", "10.1.1.1"])
    r = _account(strict, tenant, settings={"relayUrl": "https://intranet.test/hook"})
    assert r.status_code == 422
    assert r.json()["error"]["message"].startswith(
        "settings.relayUrl: host intranet.test resolves to a private address"
    )
    assert "10.1.1.1" not in r.text  # internal DNS answers are not disclosed


def test_a_name_that_does_not_resolve_is_refused_at_create(
    strict: TestClient, tenant: dict[str, Any], resolver: Resolver
) -> None:
    r = _account(strict, tenant, settings={"relayUrl": "https://nowhere.test/hook"})
    assert r.status_code == 422
    assert r.json()["error"] == {
        "code": "invalid_url",
        "message": "settings.relayUrl: host nowhere.test does not resolve",
        "details": [{"field": "settings.relayUrl"}],
    }


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"relayUrl": "ftp://bot:SENTINEL-PW@relay.test/"}, "relayUrl", "http:// or https://"),
        ({"relayUrl": "http://bot:SENTINEL-PW@/x"}, "relayUrl", "no host"),
        ({"relayUrl": "http://relay.test:99999/"}, "relayUrl", "invalid host or port"),
        ({"relayUrl": "http://bot:SENTINEL/@relay.test/"}, "relayUrl", "invalid host or port"),
        ({"relayUrl": 42}, "relayUrl", "must be a string"),
        ({"smtpUrl": "https://bot:SENTINEL-PW@mail.test"}, "smtpUrl", "smtp:// or smtps://"),
        ({"smtpUrl": "smtp://bot:SENTINEL/@mail.test"}, "smtpUrl", "bad host or port"),
        ({"smtpUrl": "smtp://mail.test?starttls=maybe"}, "smtpUrl", "starttls"),
    ],
)
def test_malformed_urls_are_refused_without_echoing_them(
    client: TestClient, tenant: dict[str, Any], values: dict[str, Any], field: str, words: str
) -> None:
    r = _account(client, tenant, platform="email", settings=values)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_url" and words in error["message"]
    assert error["details"] == [{"field": f"settings.{field}"}]
    assert "SENTINEL" not in r.text


def test_operator_settings_allow_private_targets(
    client: TestClient, tenant: dict[str, Any], strict_settings: Settings, engine: Any, clock: Any
) -> None:
    # allow_private_urls=True (the shared fixture): loopback is fine, metadata never is.
    loop = _account(client, tenant, settings={"relayUrl": "http://127.0.0.1:8080/"})
    assert loop.status_code == 201, loop.text
    meta = _account(client, tenant, name="m", settings={"relayUrl": "http://169.254.169.254/"})
    assert meta.status_code == 422
    assert meta.json()["error"]["message"] == (
        "settings.relayUrl: host 169.254.169.254 resolves to a cloud metadata address, which "
        "this server does not connect to"
    )
    # With allow_private_urls=True names are left to the connect-time check (no lookup now).
    named = _account(client, tenant, name="n", settings={"relayUrl": "https://relay.lan.test/"})
    assert named.status_code == 201, named.text
    # An exact host:port on the allow-list, with private targets otherwise refused.
    listed = strict_settings.model_copy(update={"allowed_private_targets": "127.0.0.1:8080"})
    with TestClient(create_app(listed, engine, clock), raise_server_exceptions=False) as c:
        ok = _account(c, tenant, name="l", settings={"relayUrl": "http://127.0.0.1:8080/r"})
        assert ok.status_code == 201, ok.text
        other = _account(c, tenant, name="o", settings={"relayUrl": "http://127.0.0.1:8081/r"})
        assert other.status_code == 422


# -- masking ------------------------------------------------------------------------------


def test_credentials_in_urls_are_masked_and_survive_a_round_trip(
    client: TestClient, tenant: dict[str, Any], make_tenant: Any, engine: Any
) -> None:
    url = "https://bot:pw-9f3k@127.0.0.1:8443/relay?token=tk-77aa&team=blue&Api_Key=k-1"
    created = _account(client, tenant, settings={"relayUrl": url, "apiKey": "raw-key-5"})
    assert created.status_code == 201
    shown = created.json()["settings"]
    assert shown == {
        "relayUrl": "https://bot:***@127.0.0.1:8443/relay?token=***&team=blue&Api_Key=***",
        "apiKey": "***",
    }
    analyst = make_tenant("analyst", handle=tenant["handle"])
    listed = client.get(ACCOUNTS, headers=analyst["headers"])
    assert listed.status_code == 200 and listed.json()["items"][0]["settings"] == shown
    for secret in ("pw-9f3k", "tk-77aa", "k-1", "raw-key-5"):
        assert secret not in created.text and secret not in listed.text
    # Sending back what was shown keeps what is stored.
    account_id = created.json()["id"]
    r = client.patch(
        f"{ACCOUNTS}/{account_id}",
        json={"settings": {**shown, "from": "x"}},
        headers=tenant["headers"],
    )
    assert r.status_code == 200
    with engine.connect() as conn:
        stored = conn.scalar(select(SendingAccount.settings).where(SendingAccount.id == account_id))
    assert stored == {"relayUrl": url, "apiKey": "raw-key-5", "from": "x"}


# -- PATCH: the service, config_version, 409 ---------------------------------------------


def _version(engine: Any, account_id: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.scalar(
                select(SendingAccount.config_version).where(SendingAccount.id == account_id)
            )
        )


def test_every_channel_change_bumps_the_config_version(
    client: TestClient, tenant: dict[str, Any], engine: Any
) -> None:
    h = tenant["headers"]
    account = _account(client, tenant, settings={"relayUrl": "http://127.0.0.1:9/a"}).json()
    path = f"{ACCOUNTS}/{account['id']}"
    assert _version(engine, account["id"]) == 0
    steps: list[tuple[dict[str, Any], int]] = [
        ({"name": "renamed"}, 0),  # the name is not what a channel is built from
        ({"settings": {"relayUrl": "http://127.0.0.1:9/a"}}, 0),  # the same settings
        ({"settings": {"relayUrl": "http://127.0.0.1:9/b"}}, 1),
        ({"secret": "another"}, 2),
        ({"sendLimits": "5/minute"}, 3),
        ({"sendLimits": "5/minute"}, 3),
        ({"channel": "manual"}, 4),
        ({"status": "active"}, 4),  # already active, breaker closed: nothing changes
        ({"secret": None}, 5),
    ]
    for body, expected in steps:
        r = client.patch(path, json=body, headers=h)
        assert r.status_code == 200, r.text
        assert _version(engine, account["id"]) == expected, body
    with engine.begin() as conn:
        conn.execute(
            update(SendingAccount)
            .where(SendingAccount.id == account["id"])
            .values(status="reconnect_required", status_reason="x", breaker_state="open")
        )
    resumed = client.patch(path, json={"status": "active"}, headers=h).json()
    assert (resumed["status"], resumed["breakerState"], resumed["statusReason"]) == (
        "active",
        "closed",
        None,
    )
    assert _version(engine, account["id"]) == 6
    final = client.get(path, headers=h).json()
    assert (final["name"], final["channel"], final["sendLimits"], final["hasSecret"]) == (
        "renamed",
        "manual",
        "5/minute",
        False,
    )


def test_renaming_to_a_taken_name_answers_409_and_changes_nothing(
    client: TestClient, tenant: dict[str, Any], engine: Any
) -> None:
    h = tenant["headers"]
    _account(client, tenant, name="first")
    second = _account(client, tenant, name="second").json()
    path = f"{ACCOUNTS}/{second['id']}"
    r = client.patch(
        path, json={"name": "first", "secret": "changed", "sendLimits": "1/minute"}, headers=h
    )
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "sending_account_exists"
    after = client.get(path, headers=h).json()
    assert after == second
    assert _version(engine, second["id"]) == 0
    # Another platform's account may carry the name.
    email = client.post(
        ACCOUNTS, json={"platform": "email", "name": "first", "channel": "manual"}, headers=h
    )
    assert email.status_code == 201
    assert client.patch(path, json={"name": "second"}, headers=h).status_code == 200


def test_patch_of_another_creators_account_answers_404(
    client: TestClient, tenant: dict[str, Any], make_tenant: Any
) -> None:
    account = _account(client, tenant).json()
    other = make_tenant()
    r = client.patch(f"{ACCOUNTS}/{account['id']}", json={"name": "x"}, headers=other["headers"])
    assert r.status_code == 404
