"""The ``huntaze`` command, run as a real process."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest

from huntaze.demo import SAMPLES as DEMO_SAMPLES

SAMPLES = resources.files("huntaze.demo") / "samples"


def _run(
    args: list[str], env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "huntaze", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}: {proc.stderr}")
    return proc


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HUNTAZE_DATABASE_URL": db_url,
        "HUNTAZE_SECRET_KEY_FILE": str(tmp_path / "key"),
        "HUNTAZE_LOG_LEVEL": "WARNING",
    }


def test_token_import_and_reimport(env, tmp_path, client) -> None:
    handle = f"cli{os.getpid()}{int(time.time() * 1000) % 100000}"
    token = (
        _run(["token", "create", "--creator", handle, "--role", "owner", "--create-creator"], env)
        .stdout.strip()
        .splitlines()[-1]
    )
    assert token.startswith("hz_")
    path = str(SAMPLES / "patreon_members.csv")
    first = json.loads(_run(["import", path, "--creator", handle, "--json"], env).stdout)
    assert (first["format"], first["inserted"], first["rejected"]) == ("patreon_members", 24, 0)
    again = json.loads(_run(["import", path, "--creator", handle, "--json"], env).stdout)
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 24)
    fans = client.get(
        "/api/crm/fans", params={"limit": 100}, headers={"Authorization": f"Bearer {token}"}
    )
    assert len(fans.json()["items"]) == 24

    bad = tmp_path / "Follower.txt"
    bad.write_text(
        "Date: 2025-08-02 01:00:44 UTC\nUsername: ok_one\n\nDate: 2025-08-03 01:00:00\n\n"
    )
    proc = _run(["import", str(bad), "--creator", handle], env, check=False)
    assert proc.returncode == 1
    assert "1 inserted" in proc.stdout and "1 rejected" in proc.stdout
    assert "line 4" in proc.stdout

    proc = _run(["import", str(bad), "--creator", handle, "--format", "nope"], env, check=False)
    assert proc.returncode == 2 and "unknown_format" in proc.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(env: dict[str, str], port: int) -> subprocess.Popen[str]:
    """Start ``huntaze serve --demo`` and return once /api/health answers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "huntaze", "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read() if proc.stderr else "server exited")
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.2)  # polling a real process, not waiting on domain time


def test_serve_demo_on_a_fresh_sqlite_database(tmp_path) -> None:
    """The README's first command: migrate, fill the demo creator, serve the API."""
    port = _free_port()
    env = {
        **os.environ,
        "HUNTAZE_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}",
        "HUNTAZE_SECRET_KEY_FILE": str(tmp_path / "key"),
        "HUNTAZE_LOG_LEVEL": "WARNING",
    }
    proc = _serve(env, port)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    token = re.search(r"Bearer (hz_[\w-]+)", err)
    assert token, err
    # the demo data survives the server: serve again on the same file and read it back
    proc = _serve(env, port)
    try:
        r = httpx.get(
            f"http://127.0.0.1:{port}/api/crm/fans/top",
            params={"limit": 3},
            headers={"Authorization": f"Bearer {token.group(1)}"},
        )
        if r.status_code != 200:
            proc.terminate()
            _, err = proc.communicate(timeout=30)
            raise AssertionError(f"{r.status_code} {r.text}\n{err}")
        top = r.json()["items"]
        assert len(top) == 3
        assert (
            top[0]["lifetimeValueCents"]
            >= top[1]["lifetimeValueCents"]
            >= top[2]["lifetimeValueCents"]
            > 0
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize(("filename", "fmt", "platform", "mapping"), DEMO_SAMPLES)
def test_every_format_through_the_cli(env, monkeypatch, filename, fmt, platform, mapping) -> None:
    """In-process (Typer's runner) so that all nine formats stay fast; same code as the command."""
    from typer.testing import CliRunner

    from huntaze.cli import app
    from huntaze.config import get_settings
    from tests.imports.test_import_api import SAMPLE_ROWS

    for key in ("HUNTAZE_DATABASE_URL", "HUNTAZE_SECRET_KEY_FILE"):
        monkeypatch.setenv(key, env[key])
    get_settings.cache_clear()
    handle = f"fmt{abs(hash((filename, time.time()))) % 10**9}"
    args = ["import", str(SAMPLES / filename), "--creator", handle, "--json", "--create-creator"]
    if mapping:
        args += ["--platform", platform, "--mapping", json.dumps(mapping)]
    try:
        runner = CliRunner()
        first = runner.invoke(app, args)
        assert first.exit_code == 0, first.output
        report = json.loads(first.stdout.strip().splitlines()[-1])
        assert (report["format"], report["inserted"], report["rejected"]) == (
            fmt,
            SAMPLE_ROWS[filename],
            0,
        )
        again = json.loads(runner.invoke(app, args).stdout.strip().splitlines()[-1])
        assert (again["inserted"], again["updated"], again["unchanged"]) == (
            0,
            0,
            SAMPLE_ROWS[filename],
        )
    finally:
        get_settings.cache_clear()


def _get(url: str, headers: dict[str, Any] | None = None) -> httpx.Response:
    return httpx.get(url, headers=headers or {}, timeout=10)


def test_worker_metrics_server_wants_the_bearer_token() -> None:
    """D16, the server ``huntaze worker --metrics-port`` runs, in process: with a token, no
    header or a wrong one answers 401 (the API's error body); the right one answers the
    registry; with no token, anyone may scrape (as ``/metrics``)."""
    from prometheus_client import CollectorRegistry, Counter

    from huntaze.outbox.metrics_server import serve_metrics

    registry = CollectorRegistry()
    Counter("demo_things", "things", registry=registry).inc(3)
    server = serve_metrics(registry, "127.0.0.1", 0, "s3cret-token")
    try:
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        refused = _get(url)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "unauthenticated"
        assert refused.headers["WWW-Authenticate"] == "Bearer"
        for wrong in ("Bearer s3cret", "Bearer s3cret-tokens", "s3cret-token", "bearer x"):
            assert _get(url, {"Authorization": wrong}).status_code == 401, wrong
        latin = httpx.get(url, headers=[(b"Authorization", b"Bearer \xe9t\xe9")], timeout=10)
        assert latin.status_code == 401
        ok = _get(url, {"Authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200 and "demo_things_total 3.0" in ok.text
    finally:
        server.shutdown()
        server.server_close()
    server = serve_metrics(registry, "127.0.0.1", 0, "")
    try:
        assert _get(f"http://127.0.0.1:{server.server_port}/metrics").status_code == 200
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_worker_metrics_port_is_protected_by_the_metrics_token(env) -> None:
    """D16: ``huntaze worker --metrics-port`` with HUNTAZE_METRICS_TOKEN set answers 401
    without the bearer token and the worker's metrics with it."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "huntaze", "worker", "--metrics-port", str(port)],
        env={**env, "HUNTAZE_METRICS_TOKEN": "scrape-me-please"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                refused = _get(url)
                break
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read() if proc.stderr else "worker exited")
            assert time.monotonic() < deadline, "the worker's metrics never answered"
            time.sleep(0.2)  # polling a real process, not waiting on domain time
        assert refused.status_code == 401
        assert _get(url, {"Authorization": "Bearer wrong"}).status_code == 401
        ok = _get(url, {"Authorization": "Bearer scrape-me-please"})
        assert ok.status_code == 200
        assert "huntaze_messages_sent_total" in ok.text
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=60)
