"""``huntaze --help``, ``-h`` and ``--version``: fast (no heavy import), plain flags."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from huntaze import __version__
from huntaze.cli import app

#: Modules that only the commands themselves may load; help and --version must not.
HEAVY = (
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "pydantic_settings",
    "pyarrow",
    "polars",
    "httpx",
    "structlog",
    "rich",
    "huntaze.api",
    "huntaze.config",
    "huntaze.models",
    "huntaze.fans",
    "huntaze.imports",
    "huntaze.inbox",
    "huntaze.db",
    "huntaze.messaging",
)

_PROBE = """
import json, sys
from huntaze.cli import app
try:
    app({args!r}, prog_name="huntaze")
except SystemExit as exc:
    code = exc.code
heavy = sorted({{m for m in sys.modules for h in {heavy!r} if m == h or m.startswith(h + ".")}})
print(json.dumps({{"code": code, "heavy": heavy}}), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["-h"],
        ["--version"],
        ["token", "--help"],
        ["token", "create", "--help"],
        ["import", "--help"],
        ["serve", "--help"],
    ],
)
def test_help_and_version_load_no_heavy_module(args: list[str]) -> None:
    """Every command used to pay for FastAPI, SQLAlchemy, Alembic and the importers before
    it ran (2 s for ``--help``): they now load inside the commands that need them."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(args=args, heavy=HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    result = json.loads(done.stderr.strip().splitlines()[-1])
    assert result == {"code": 0, "heavy": []}, done.stderr
    assert done.stdout.strip(), "nothing was printed"


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["--version"], ["-V"]])
def test_the_command_itself_loads_not_even_pydantic(args: list[str]) -> None:
    """Typer parses a subcommand's options with pydantic; ``huntaze --help`` and
    ``--version`` need nothing but Typer."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(args=args, heavy=("pydantic", *HEAVY))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert json.loads(done.stderr.strip().splitlines()[-1]) == {"code": 0, "heavy": []}


def test_version_and_short_help() -> None:
    runner = CliRunner()
    for flag in ("--version", "-V"):
        done = runner.invoke(app, [flag])
        assert done.exit_code == 0, done.output
        assert done.stdout.strip() == f"huntaze {__version__}"
    short = runner.invoke(app, ["-h"])
    assert short.exit_code == 0 and "Usage:" in short.stdout
    assert short.stdout == runner.invoke(app, ["--help"]).stdout
    assert runner.invoke(app, ["token", "create", "-h"]).exit_code == 0


def test_plain_flags_show_no_type() -> None:
    """``--demo`` and ``--json`` are flags: no ``<bool>`` after them; options that take a
    value name it (``--creator HANDLE``)."""
    runner = CliRunner()
    pages = {
        args[-2] if len(args) > 1 else args[0]: runner.invoke(app, args).stdout
        for args in (
            ["serve", "--help"],
            ["import", "--help"],
            ["token", "create", "--help"],
            ["token", "list", "--help"],
            ["worker", "--help"],
            ["--help"],
        )
    }
    for name, page in pages.items():
        assert "<bool>" not in page and "<str>" not in page, (name, page)
    assert "--demo " in pages["serve"] and "--no-worker " in pages["serve"]
    assert "--json " in pages["import"] and "--create-creator " in pages["import"]
    assert "--creator HANDLE" in pages["import"] and "--change-role " in pages["create"]
    assert "--verbose" in pages["--help"] and "--version" in pages["--help"]


def test_a_usage_error_exits_2_with_one_message() -> None:
    done = CliRunner().invoke(app, ["token", "create"])
    assert done.exit_code == 2
    assert "--creator" in done.stderr and "Traceback" not in done.output
    done = CliRunner().invoke(app, ["token", "create", "--creator", "a", "--role", "admin"])
    assert done.exit_code == 2 and "not a role" in done.stderr
