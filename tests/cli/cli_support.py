"""Running the ``huntaze`` command in process (Typer's runner) against a database URL."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

from typer.testing import CliRunner, Result

from huntaze.cli import app
from huntaze.config import get_settings


def run_cli(args: list[str], url: str | None, tmp_path: Path, **env: str | None) -> Result:
    """Run ``huntaze ARGS`` with ``HUNTAZE_DATABASE_URL=url`` (unset when None) and a key file
    in ``tmp_path``; ``env`` adds or (None) removes variables for this run only."""
    given: dict[str, str | None] = {
        "HUNTAZE_DATABASE_URL": url,
        "HUNTAZE_SECRET_KEY_FILE": str(tmp_path / "key"),
        "HUNTAZE_LOG_LEVEL": "WARNING",
        **env,
    }
    try:
        return CliRunner().invoke(app, args, env=given)
    finally:
        get_settings.cache_clear()


def error_lines(result: Result) -> list[str]:
    """The non-empty lines the command wrote to stderr."""
    return [line for line in result.stderr.splitlines() if line.strip()]


def handle(prefix: str = "00") -> str:
    """A fresh creator handle that sorts before the test tenants' (``c…``)."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def closed_port() -> int:
    """A loopback TCP port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def with_password(url: str, password: str) -> str:
    """``url`` with ``password`` added to its user (PostgreSQL on trust auth ignores it)."""
    scheme, _, rest = url.partition("://")
    user, at, host = rest.partition("@")
    if not at:
        return url
    return f"{scheme}://{user.split(':')[0]}:{password}@{host}"
