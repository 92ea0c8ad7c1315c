"""The fan-list benchmark's client side: its servers in subprocesses, and the timed requests.

Used by :mod:`bench.fanlist_bench` (see its docstring for what is measured).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent
#: The concurrencies each case is measured at.
CONCURRENCY = (1, 32)
#: a run stops sending after this many seconds (each client finishes its request in flight)
BUDGET_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """A uvicorn subprocess serving ``factory`` on 127.0.0.1."""

    def __init__(self, factory: str, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                factory,
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT.parent,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=log.open("ab"),
        )

    def wait(self, path: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            self.check()
            try:
                if httpx.get(self.url + path, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def check(self) -> None:
        """Raise if the server process has exited, with the end of its stderr."""
        if self.proc.poll() is not None:
            tail = self.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"server exited ({self.proc.returncode}): {tail}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def drive(
    base: str, path: str, params: dict[str, Any], headers: dict[str, str], clients: int, total: int
) -> dict[str, Any]:
    """Send ``total`` requests from ``clients`` concurrent clients; latency and throughput."""
    latencies: list[float] = []
    errors: list[float] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=120) as c:
        for _ in range(min(clients, 4)):  # open connections, warm caches
            (await c.get(path, params=params)).raise_for_status()
        per_client = max(1, total // clients)
        deadline = time.perf_counter() + BUDGET_SECONDS

        async def one_client() -> None:
            for done in range(per_client):
                if done and time.perf_counter() > deadline:
                    break  # a slow case: fewer requests, the count says how many
                started = time.perf_counter()
                try:
                    r = await c.get(path, params=params)
                    await r.aread()
                except httpx.TransportError:
                    # a connection the server closed (keep-alive timeout): counted, retried
                    errors.append(time.perf_counter() - started)
                    r = await c.get(path, params=params)
                    await r.aread()
                latencies.append(time.perf_counter() - started)
                if r.status_code != 200:
                    raise RuntimeError(f"{path} {params}: {r.status_code} {r.text[:300]}")

        began = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        wall = time.perf_counter() - began
    return {
        "clients": clients,
        "requests": len(latencies),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(max(latencies) * 1000, 2),
        "requests_per_s": round(len(latencies) / wall, 1),
        "transport_errors_retried": len(errors),
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    server: Server, path: str, params: dict[str, Any], headers: dict[str, str], requests: int
) -> list[dict[str, Any]]:
    """One run per concurrency; each also reports the server process's CPU milliseconds per
    request (``server_cpu_ms``), which other load on the machine hardly changes."""
    runs = []
    for clients in CONCURRENCY:
        total = requests * max(1, clients // 4)
        cpu = cpu_seconds(server.proc.pid)
        try:
            run = asyncio.run(drive(server.url, path, params, headers, clients, total))
        except httpx.HTTPError:
            server.check()
            raise
        warm = min(clients, 4)  # _drive's warm-up requests
        used = cpu_seconds(server.proc.pid) - cpu
        run["server_cpu_ms"] = round(used * 1000 / (run["requests"] + warm), 2)
        runs.append(run)
    return runs


def follow(base: str, headers: dict[str, str], params: dict[str, Any], pages: int) -> str | None:
    """The cursor after following ``pages`` pages (or the last one there is)."""
    cursor = None
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        for _ in range(pages):
            query = {**params, **({"cursor": cursor} if cursor else {})}
            body = client.get("/api/crm/fans", params=query).raise_for_status().json()
            if not body["nextCursor"]:
                break
            cursor = body["nextCursor"]
    return cursor
