"""Every example ``huntaze demo`` and ``huntaze serve --demo`` print works when pasted.

Issue 9: the printed curl lines named ``-F file=@Members.csv``, a file that does not exist.
Here the printed lines are taken from the real processes' output and run, as pasted, in bash
with the real ``curl`` (from another directory, so a relative path would fail), against a
live server; each request must answer 2xx. Where curl or bash is missing, the same lines are
read by a small stand-in that sends them with httpx.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.cli.test_cli import _free_port
from tests.demo.test_demo_sends import DEADLINE, POLL, Demo, _clean_env

BANNER = "Demo creator 'demo' is ready"
_SEND = re.compile(r'^MSG=\$\((curl .*) \| python3 -c .*\); echo "\$MSG"$')
_STATUS = re.compile(r"@@status=(\d{3})")


def printed_examples(text: str) -> list[str]:
    """The example lines printed after the banner (indented by two spaces), unindented."""
    lines = text[text.index(BANNER) :].splitlines()
    examples = [line[2:] for line in lines[1:] if line.startswith("  ")]
    assert examples, text
    for example in examples:
        # commands only: no `open URL` (macOS only), nothing wrapped onto a second line
        assert example.startswith(("curl ", "MSG=$(curl ")), example
        shlex.split(example)  # complete shell words: no line was wrapped mid-quote
    return examples


def _run_in_bash(examples: list[str], cwd: Path) -> list[int]:
    """Run the lines in one bash (``$MSG`` carries over), curl reporting each status."""
    script = "\n".join(
        [
            "set -euo pipefail",
            "curl() { command curl --write-out '%{stderr}@@status=%{http_code}\\n' \"$@\"; }",
            *examples,
        ]
    )
    done = subprocess.run(
        ["bash", "-c", script], cwd=cwd, capture_output=True, text=True, timeout=DEADLINE
    )
    assert done.returncode == 0, f"{done.returncode}\n{done.stdout}\n{done.stderr}"
    return [int(code) for code in _STATUS.findall(done.stderr)]


def _curl_with_httpx(args: list[str], variables: dict[str, str], cwd: Path) -> httpx.Response:
    """What curl does with the options the examples use (-s, -S, -H, -d, -F, a URL)."""
    headers: dict[str, str] = {}
    data: str | None = None
    files = None
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
            field, _, path = next(rest).partition("=@")
            local = cwd / path
            files = {field: (local.name, local.read_bytes())}
        else:
            url = re.sub(r"\$(\w+)", lambda m: variables[m.group(1)], arg)
    if data is not None:
        return httpx.post(url, headers=headers, content=data.encode(), timeout=30)
    if files is not None:
        return httpx.post(url, headers=headers, files=files, timeout=30)
    return httpx.get(url, headers=headers, timeout=30)


def _run_with_httpx(examples: list[str], cwd: Path) -> list[int]:
    variables: dict[str, str] = {}
    statuses = []
    for example in examples:
        matched = _SEND.match(example)
        r = _curl_with_httpx(shlex.split(matched.group(1) if matched else example), variables, cwd)
        if matched:
            variables["MSG"] = r.json()["messageId"]
        statuses.append(r.status_code)
    return statuses


def run_examples(examples: list[str], cwd: Path) -> list[int]:
    """Each example's HTTP status, in order."""
    if shutil.which("curl") and shutil.which("bash") and shutil.which("python3"):
        return _run_in_bash(examples, cwd)
    return _run_with_httpx(examples, cwd)  # pragma: no cover - curl is on the CI machine


def _elsewhere(tmp_path: Path) -> Path:
    where = tmp_path / "somewhere-else"
    where.mkdir()
    return where


def _wait_healthy(proc: subprocess.Popen[str], port: int, log: Path) -> None:
    deadline = time.monotonic() + DEADLINE
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(POLL)  # polling a real process, not waiting on domain time


@pytest.mark.slow
def test_huntaze_demo_examples_work_once_the_server_runs(tmp_path: Path) -> None:
    port = _free_port()
    env = {**_clean_env(tmp_path), "HUNTAZE_PORT": str(port)}
    demo = subprocess.run(
        [sys.executable, "-m", "huntaze", "demo"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert demo.returncode == 0, demo.stderr
    token = demo.stdout.strip().splitlines()[-1]
    examples = printed_examples(demo.stderr)
    assert all(token in example for example in examples)
    assert (
        "Start the API with `huntaze serve` (same HUNTAZE_DATABASE_URL; it listens on "
        f"http://127.0.0.1:{port})"
    ) in demo.stderr
    imports = [e for e in examples if " -F " in e]
    assert len(imports) == 1
    sample = shlex.split(imports[0])[shlex.split(imports[0]).index("-F") + 1]
    assert Path(sample.removeprefix("file=@")).is_absolute()

    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "huntaze", "serve", "--no-worker"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=out,
            text=True,
        )
        try:
            _wait_healthy(server, port, log)
            statuses = run_examples(examples, _elsewhere(tmp_path))
        finally:
            server.terminate()
            server.wait(timeout=DEADLINE)
    assert len(statuses) == len(examples) and all(200 <= s < 300 for s in statuses), statuses


@pytest.mark.slow
def test_serve_demo_examples_work_as_printed(tmp_path: Path) -> None:
    demo = Demo(_clean_env(tmp_path), tmp_path, 1)
    try:
        examples = printed_examples(demo.stderr)
        assert f"serving sqlite:///{tmp_path / 'demo.db'} at {demo.base}" in demo.stderr
        sends = [e for e in examples if e.startswith("MSG=")]
        assert len(sends) == 2, demo.stderr
        statuses = run_examples(examples, _elsewhere(tmp_path))
        # a send line is one request; the status line after it names the message it sent
        assert len(statuses) == len(examples), statuses
        assert all(200 <= s < 300 for s in statuses), (statuses, demo.stderr)
    finally:
        demo.stop()
