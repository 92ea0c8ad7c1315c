"""``huntaze serve --demo`` sends offline: its own loopback relay and SMTP server deliver the
demo creator's messages, which end ``sent`` and are recorded in the deliveries file."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from huntaze.config import Settings
from huntaze.demo.sending import (
    ACCOUNT_NAME,
    DELIVERIES_FILE,
    DeliveryLog,
    DemoSenders,
    deliveries_path,
    demo_recipients,
    ensure_demo_accounts,
    merge_targets,
)
from huntaze.kit.crypto import box_from_settings
from huntaze.messaging.accounts import account_config
from huntaze.models.messaging import SendingAccount
from huntaze.platforms.base import OutgoingMessage, PermanentError
from huntaze.platforms.email.channel import EmailChannel
from huntaze.platforms.onlyfans.relay import OnlyFansRelayChannel
from tests.factories import fan_values
from tests.test_cli import _free_port

DEADLINE = 60.0  # seconds a real process may take on a busy two-core machine
POLL = 0.2  # seconds between polls of a real process


# -- the real process ---------------------------------------------------------------------


def _clean_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a new user: no HUNTAZE_* at all but the database and key paths
    (no HUNTAZE_ALLOW_PRIVATE_URLS, no relay or SMTP settings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUNTAZE_")}
    env.update(
        HUNTAZE_DATABASE_URL=f"sqlite:///{tmp_path / 'demo.db'}",
        HUNTAZE_SECRET_KEY_FILE=str(tmp_path / "key"),
        HUNTAZE_LOG_LEVEL="WARNING",
    )
    return env


class Demo:
    """A running ``huntaze serve --demo`` whose stderr goes to a file."""

    def __init__(self, env: dict[str, str], tmp_path: Path, run: int) -> None:
        self.port = _free_port()
        self.log = tmp_path / f"serve-{run}.log"
        self._out = self.log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "huntaze", "serve", "--demo", "--port", str(self.port)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=self._out,
            text=True,
        )
        deadline = time.monotonic() + DEADLINE
        while True:
            try:
                if httpx.get(f"{self.base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited: {self.stderr}")
            assert time.monotonic() < deadline, f"server did not start: {self.stderr}"
            time.sleep(POLL)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def printed_commands(self) -> list[str]:
        """The indented shell lines printed under "Demo creator 'demo' is ready"."""
        text = self.stderr
        start = text.index("Demo creator 'demo' is ready")
        return [
            line[2:]
            for line in text[start:].splitlines()
            if line.startswith("  curl ") or line.startswith("  MSG=$(curl ")
        ]

    def token(self) -> str:
        found = re.findall(r"Bearer (hz_[\w-]+)", self.stderr)
        assert found, self.stderr
        return found[-1]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=DEADLINE)
        finally:
            self._out.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=DEADLINE)
        self._out.close()


# -- running the printed lines ------------------------------------------------------------

_MSG_LINE = re.compile(r'^MSG=\$\((curl .*) \| python3 -c .*\); echo "\$MSG"$')


def _run_with_shell(commands: list[str], cwd: Path) -> list[str]:
    """Run the lines as pasted into bash, one after the other in one shell (``$MSG`` carries
    over); return each line's stdout."""
    marker = "@@line-done@@"
    script = "set -euo pipefail\n" + "".join(
        f"{command}\nprintf '\\n{marker}\\n'\n" for command in commands
    )
    done = subprocess.run(
        ["bash", "-c", script], cwd=cwd, capture_output=True, text=True, timeout=DEADLINE
    )
    assert done.returncode == 0, f"{done.returncode}\n{done.stdout}\n{done.stderr}"
    outputs = done.stdout.split(f"\n{marker}\n")
    assert len(outputs) == len(commands) + 1 and outputs[-1] == "", done.stdout
    return [out.strip() for out in outputs[:-1]]


def _curl_with_httpx(args: list[str], variables: dict[str, str]) -> str:
    """What curl does with the few options the demo prints (-s, -S, -H, -d, -F, a URL)."""
    headers: dict[str, str] = {}
    data: str | None = None
    files: dict[str, Any] | None = None
    url = ""
    rest = iter(args[1:])
    for arg in rest:
        if arg in ("-s", "-S", "-sS"):
            continue
        if arg == "-H":
            name, _, value = next(rest).partition(":")
            headers[name.strip()] = value.strip()
        elif arg == "-d":
            data = next(rest)
        elif arg == "-F":
            field, _, value = next(rest).partition("=@")
            files = {field: (Path(value).name, Path(value).read_bytes())}
        else:
            url = re.sub(r"\$(\w+)", lambda m: variables[m.group(1)], arg)
    if data is not None:
        r = httpx.post(url, headers=headers, content=data.encode(), timeout=30)
    elif files is not None:
        r = httpx.post(url, headers=headers, files=files, timeout=30)
    else:
        r = httpx.get(url, headers=headers, timeout=30)
    return r.text


def _run_with_httpx(commands: list[str]) -> list[str]:
    """The same as :func:`_run_with_shell` where curl or bash is missing."""
    variables: dict[str, str] = {}
    outputs = []
    for command in commands:
        matched = _MSG_LINE.match(command)
        if matched:
            answer = json.loads(_curl_with_httpx(shlex.split(matched.group(1)), variables))
            variables["MSG"] = answer["messageId"]
            outputs.append(variables["MSG"])
        else:
            outputs.append(_curl_with_httpx(shlex.split(command), variables))
    return outputs


def _run_printed(commands: list[str], cwd: Path, shell: bool) -> list[str]:
    """In a shell when asked and curl, bash and python3 are installed; else with httpx."""
    if shell and shutil.which("curl") and shutil.which("bash") and shutil.which("python3"):
        return _run_with_shell(commands, cwd)
    return _run_with_httpx(commands)


def _wait_sent(demo: Demo, token: str, message_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + DEADLINE
    while True:
        r = httpx.get(
            f"{demo.base}/api/messages/{message_id}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        if body["status"] == "sent":
            return body
        assert body["status"] in ("queued", "processing"), body
        assert time.monotonic() < deadline, f"{body}\n{demo.stderr}"
        time.sleep(POLL)


#: (platform, recipient address, messageId, request body) of one send
Sent = tuple[str, str, str, dict[str, Any]]


def _api(demo: Demo) -> httpx.Client:
    return httpx.Client(
        base_url=demo.base, headers={"Authorization": f"Bearer {demo.token()}"}, timeout=30
    )


def _send_directly(demo: Demo) -> list[Sent]:
    """One OnlyFans message and one email through the API, with the printed token, to demo
    fans found through the API. Before issue 8 both answered 409 ``no_sending_account``."""
    with _api(demo) as api:
        onlyfans_fans = api.get("/api/crm/fans", params={"platform": "onlyfans", "limit": 50})
        onlyfans_fan = next(f for f in onlyfans_fans.json()["items"] if f["consent"] != "opted_out")
        fans = api.get("/api/crm/fans", params={"limit": 100}).json()["items"]
        email_fan = next(f for f in fans if f["email"] and f["consent"] != "opted_out")
        onlyfans_body = {"recipientId": onlyfans_fan["platformFanId"], "content": "Hi ✨ Zoë"}
        r = api.post("/api/onlyfans/messages/send", json=onlyfans_body)
        assert r.status_code == 200, r.text
        sent = [("onlyfans", onlyfans_fan["platformFanId"], r.json()["messageId"], onlyfans_body)]
        email_body = {
            "platform": "email",
            "fanId": email_fan["id"],
            "subject": "Über news",
            "content": "Hello from the test.\nSecond line.",
        }
        r = api.post("/api/messages/send", json=email_body)
        assert r.status_code == 200, r.text
        sent.append(("email", email_fan["email"], r.json()["messageId"], email_body))
    return sent


def _send_through_printed_lines(demo: Demo, tmp_path: Path, shell: bool) -> list[Sent]:
    """Run every printed line (reads, an import, two sends and their status); check that each
    answered without an error; return the two sends."""
    commands = demo.printed_commands()
    sends = [c for c in commands if c.startswith("MSG=")]
    assert len(sends) == 2, demo.stderr
    assert "/api/onlyfans/messages/send" in sends[0]
    assert "/api/messages/send" in sends[1] and '"platform": "email"' in sends[1]
    outputs = _run_printed(commands, tmp_path, shell)
    ids = []
    for command, output in zip(commands, outputs, strict=True):
        if command.startswith("MSG="):
            assert re.fullmatch(r"msg_\w+", output), (command, output)
            ids.append(output)
        else:
            answer = json.loads(output)
            assert "error" not in answer, (command, output)
    bodies = []
    for command in sends:
        args = shlex.split(_MSG_LINE.match(command).group(1))  # type: ignore[union-attr]
        bodies.append(json.loads(args[args.index("-d") + 1]))
    with _api(demo) as api:
        email = api.get(f"/api/crm/fans/{bodies[1]['fanId']}").json()["email"]
    return [
        ("onlyfans", bodies[0]["recipientId"], ids[0], bodies[0]),
        ("email", email, ids[1], bodies[1]),
    ]


def _deliveries(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.slow
def test_serve_demo_sends_onlyfans_and_email_with_nothing_installed(tmp_path: Path) -> None:
    """A new user's first run, then a second start on the same database: every printed curl
    line works when pasted, the OnlyFans and email sends reach ``sent`` through the demo's
    own relay and SMTP server, and each delivery is in the file the README names, next to
    the SQLite database."""
    env = _clean_env(tmp_path)
    deliveries = tmp_path / DELIVERIES_FILE
    recorded = 0
    for run in (1, 2):
        demo = Demo(env, tmp_path, run)
        try:
            assert f"appended to {deliveries}." in demo.stderr, demo.stderr
            sends = _send_directly(demo)
            # pasted into bash on the first start; read by the test's own curl stand-in on
            # the second (the only way where curl is not installed)
            sends += _send_through_printed_lines(demo, tmp_path, shell=run == 1)
            statuses = {m: _wait_sent(demo, demo.token(), m) for _, _, m, _ in sends}
            new = _deliveries(deliveries)[recorded:]
            recorded += len(new)
            by_id = {d["messageId"]: d for d in new}
            assert set(by_id) == set(statuses) and len(new) == 4, new
            for platform, to, message_id, body in sends:
                record = by_id[message_id]
                assert (record["platform"], record["to"], record["content"]) == (
                    platform,
                    to,
                    body["content"],
                )
                if platform == "email":
                    assert record["subject"] == body["subject"]
                else:
                    assert record["externalId"] == statuses[message_id]["externalId"]
                # each delivery is also echoed on the terminal
                assert f"delivered {platform} {message_id} to {to}" in demo.stderr
            with _api(demo) as api:
                accounts = api.get("/api/messaging/accounts").json()["items"]
            assert sorted((a["platform"], a["name"], a["status"]) for a in accounts) == [
                ("email", ACCOUNT_NAME, "active"),
                ("onlyfans", ACCOUNT_NAME, "active"),
            ]
            assert demo.stop() == 0, demo.stderr
        finally:
            demo.kill()
        new_token_said = "a new owner token follows" in demo.stderr
        assert new_token_said == (run == 2)  # the second start finds the demo creator
    assert recorded == 8


@pytest.mark.slow
def test_huntaze_demo_says_where_sending_works(tmp_path: Path) -> None:
    """``huntaze demo`` (no server, so no relay or SMTP server) points at ``serve --demo``
    and prints no send line that would answer 409."""
    proc = subprocess.run(
        [sys.executable, "-m", "huntaze", "demo"],
        env=_clean_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Sending works under `huntaze serve --demo`" in proc.stderr
    assert "/messages/send" not in proc.stderr


# -- the pieces, in process -----------------------------------------------------------------


def test_deliveries_file_sits_next_to_the_sqlite_database(tmp_path: Path, monkeypatch) -> None:
    assert deliveries_path(f"sqlite:///{tmp_path / 'x' / 'h.db'}") == (
        tmp_path / "x" / DELIVERIES_FILE
    )
    monkeypatch.chdir(tmp_path)
    assert deliveries_path("sqlite:///./huntaze.db") == tmp_path / DELIVERIES_FILE
    assert deliveries_path("sqlite://") == tmp_path / DELIVERIES_FILE
    assert deliveries_path("postgresql+psycopg://u@h/db") == tmp_path / DELIVERIES_FILE


def test_merge_targets_keeps_what_is_configured_once() -> None:
    assert merge_targets("", "127.0.0.1:5,127.0.0.1:6") == "127.0.0.1:5,127.0.0.1:6"
    assert merge_targets("10.0.0.2:25, 127.0.0.1:5", "127.0.0.1:5,127.0.0.1:6") == (
        "10.0.0.2:25,127.0.0.1:5,127.0.0.1:6"
    )


def _outgoing(account_id: str, platform: str, recipient: str, n: int) -> OutgoingMessage:
    return OutgoingMessage(
        message_id=f"msg_demo{n}",
        idempotency_key=f"msg_demo{n}",
        account_id=account_id,
        platform=platform,
        recipient=recipient,
        content=f"Zoë, message {n} ✨",
        subject="Hello" if platform == "email" else None,
    )


def _refused_without_the_allowance(
    onlyfans: SendingAccount, email: SendingAccount, box: Any, settings: Settings
) -> None:
    """With the server's own settings (no private targets allowed), the same accounts reach
    nothing: the allowance ``serve --demo`` adds is what lets them through."""
    pytest.importorskip("huntaze.kit.netguard")  # the SSRF guard (issue 8)
    relay = OnlyFansRelayChannel(account_config(onlyfans, box), settings)
    smtp = EmailChannel(account_config(email, box), settings)
    try:
        with pytest.raises(PermanentError, match="loopback"):
            relay.send(_outgoing(onlyfans.id, "onlyfans", "520001", 9))
        with pytest.raises(PermanentError, match="loopback"):
            smtp.send(_outgoing(email.id, "email", "zoe@example.com", 9))
    finally:
        relay.close()
        smtp.close()


def test_demo_accounts_deliver_through_the_channels_and_refresh_on_restart(
    sessions, tenant, tmp_path: Path
) -> None:
    """The accounts made for one pair of fakes send through the real channels to them; a
    second pair (a later start) takes over the same accounts, with a new version, active and
    with a closed breaker, and the only private targets allowed are the fakes'."""
    creator_id = tenant["creator_id"]
    settings = Settings(secret_key_file=str(tmp_path / "key"))
    box = box_from_settings(settings)
    echoed: list[str] = []
    log = DeliveryLog(tmp_path / DELIVERIES_FILE, echo=echoed.append)
    versions: list[int] = []
    for run in (1, 2):
        with DemoSenders(log) as senders:
            now = datetime.now(UTC)
            allowed = settings.model_copy(
                update={"allowed_private_targets": senders.allowed_targets}
            )
            with sessions() as session:
                onlyfans, email = ensure_demo_accounts(
                    session, creator_id, box, now, senders, allowed
                )
                session.commit()
                ports = {
                    f"127.0.0.1:{urlsplit(senders.relay_url).port}",
                    f"127.0.0.1:{urlsplit(senders.smtp_url).port}",
                }
                assert set(senders.allowed_targets.split(",")) == ports
                assert onlyfans.settings == {"relayUrl": senders.relay_url}
                assert email.settings["smtpUrl"] == senders.smtp_url
                versions.append(onlyfans.config_version)
                relay = OnlyFansRelayChannel(account_config(onlyfans, box), allowed)
                smtp = EmailChannel(account_config(email, box), allowed)
                onlyfans_id, email_id = onlyfans.id, email.id
                if run == 1:  # what a dead relay leaves behind, repaired by the next start
                    onlyfans.status = "reconnect_required"
                    onlyfans.breaker_state = "open"
                    session.commit()
            try:
                relay.send(_outgoing(onlyfans_id, "onlyfans", "520001", run))
                smtp.send(_outgoing(email_id, "email", "zoe@example.com", run))
            finally:
                relay.close()
                smtp.close()
            if run == 1:
                _refused_without_the_allowance(onlyfans, email, box, settings)
    with sessions() as session:
        rows = session.scalars(
            select(SendingAccount).where(SendingAccount.creator_id == creator_id)
        ).all()
        assert sorted((a.platform, a.name, a.status, a.breaker_state) for a in rows) == [
            ("email", ACCOUNT_NAME, "active", "closed"),
            ("onlyfans", ACCOUNT_NAME, "active", "closed"),
        ]
    assert versions[1] == versions[0] + 1
    records = _deliveries(tmp_path / DELIVERIES_FILE)
    assert [(r["platform"], r["messageId"], r["to"], r["content"]) for r in records] == [
        ("onlyfans", "msg_demo1", "520001", "Zoë, message 1 ✨"),
        ("email", "msg_demo1", "zoe@example.com", "Zoë, message 1 ✨"),
        ("onlyfans", "msg_demo2", "520001", "Zoë, message 2 ✨"),
        ("email", "msg_demo2", "zoe@example.com", "Zoë, message 2 ✨"),
    ]
    assert records[1]["subject"] == "Hello" and records[0]["externalId"] == "of_1"
    assert len(echoed) == 4 and echoed[0].startswith("delivered onlyfans msg_demo1 to 520001")


def test_demo_recipients_skip_opted_out_fans(engine, sessions, tenant) -> None:
    from sqlalchemy import insert

    from huntaze.models.crm import Fan

    creator_id = tenant["creator_id"]
    now = datetime.now(UTC)
    rows = [
        fan_values(creator_id, "1", now, platform="onlyfans", lifetime_value_cents=900),
        fan_values(creator_id, "2", now, platform="onlyfans", lifetime_value_cents=500),
        fan_values(creator_id, "3", now, platform="patreon", email="a@example.com"),
    ]
    rows[0]["consent"] = "opted_out"
    with engine.begin() as conn:
        conn.execute(insert(Fan), rows)
    with sessions() as session:
        found = demo_recipients(session, creator_id)
        email_fan = session.scalar(
            select(Fan.id).where(Fan.creator_id == creator_id, Fan.platform_fan_id == "3")
        )
    assert found.onlyfans_recipient_id == "2"
    assert found.email_fan_id == email_fan
