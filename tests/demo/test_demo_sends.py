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
from pathlib import Path
from typing import Any

import httpx
import pytest

from huntaze.demo.sending import (
    ACCOUNT_NAME,
    DELIVERIES_FILE,
)
from tests.cli.test_cli import _free_port

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
    """The deliveries file's records, in order (one JSON object per line)."""
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
