"""What every ``huntaze`` command shares: opening the database, naming it, and turning
expected failures into one line on stderr and an exit code.

Exit codes (docs/cli.md): 0 done; 1 done with rejected rows, or the database failed at run
time (unreachable, refused a statement); 2 what was asked cannot be done as given (a bad
option, an unknown creator, a missing SQLite file, an invalid setting or URL, a file that is
not in a known format); 130 interrupted.

This module imports only the standard library and Typer at load time, so ``huntaze --help``
stays fast; SQLAlchemy, pydantic and the app load inside the functions that need them.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.engine import URL

    from huntaze.config import Settings

#: exit code: what was asked cannot be done as given
USAGE = 2
#: exit code: done with rejected rows, or the database failed at run time
FAILED = 1
#: exit code after Ctrl-C (128 + SIGINT, the shells' convention)
INTERRUPTED = 130

URL_HELP = "sqlite:///path/to/huntaze.db or postgresql+psycopg://user@host:5432/db"


@dataclass
class State:
    """Options of the ``huntaze`` command itself, set by its callback before each command."""

    verbose: bool = False


STATE = State()


class CliError(Exception):
    """A failure the command reports as one line (``error: <message>``) and ``code``."""

    def __init__(self, message: str, code: int = USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def fail(message: str, code: int = USAGE) -> NoReturn:
    """Stop the command with ``error: <message>`` on stderr and exit ``code``.

    Raises:
        CliError: always (turned into the line and the exit code by :func:`handled`).
    """
    raise CliError(message, code)


def note(message: str) -> None:
    """Print an informational line on stderr (stdout is kept for what scripts read)."""
    typer.echo(message, err=True)


@contextmanager
def handled() -> Iterator[None]:
    """Run a command's body, turning the failures a user can cause into one line on stderr
    and an exit code (module docstring), never a traceback: :class:`CliError`, invalid
    settings, database URLs and connections, :class:`~huntaze.kit.errors.ApiError` (a
    file not in a known format, an unknown format name...), the importers'
    ``ImportFormatError``, statements the database refuses, and Ctrl-C.

    Raises:
        typer.Exit: with the exit code, after the line is printed.
    """
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except CliError as exc:
        _stop(exc.message, exc.code, exc)
    except KeyboardInterrupt as exc:
        _stop("interrupted", INTERRUPTED, exc)
    except Exception as exc:
        described = describe(exc)
        if described is None:
            raise
        _stop(*described, exc)


def _stop(message: str, code: int, exc: BaseException) -> NoReturn:
    from huntaze.kit.redact import redact_text

    typer.echo(f"error: {redact_text(message)}", err=True)
    raise typer.Exit(code) from exc


def describe(exc: Exception) -> tuple[str, int] | None:
    """The one line and exit code for an exception a user can cause, or None for a bug."""
    from pydantic import ValidationError
    from sqlalchemy import exc as sa

    from huntaze.imports.base import ImportFormatError
    from huntaze.kit.errors import ApiError

    if isinstance(exc, ApiError):
        return _api_error(exc), USAGE if exc.status < 500 else FAILED
    if isinstance(exc, ImportFormatError):
        where = f" (line {exc.line})" if exc.line is not None else ""
        return f"invalid_file: {exc}{where}", USAGE
    if isinstance(exc, ValidationError) and exc.title == "Settings":
        return _settings_error(exc), USAGE
    if isinstance(exc, (sa.ArgumentError, sa.NoSuchModuleError)):
        return (
            f"HUNTAZE_DATABASE_URL is not a database URL ({first_line(exc)}); expected {URL_HELP}",
            USAGE,
        )
    if isinstance(exc, (sa.OperationalError, sa.InterfaceError)) or type(exc) is sa.DatabaseError:
        return f"cannot use the database {shown_url()}: {first_line(exc)}", FAILED
    if isinstance(exc, sa.DBAPIError):
        return f"the database {shown_url()} refused a statement: {first_line(exc)}", FAILED
    if (
        isinstance(exc, ModuleNotFoundError)
        and exc.name
        and exc.name.split(".")[0]
        in (
            "psycopg",
            "psycopg2",
            "pymysql",
            "MySQLdb",
            "asyncpg",
        )
    ):
        return f"the database driver {exc.name} is not installed (for {shown_url()})", USAGE
    return None


def _api_error(exc: Any) -> str:
    parts = [f"{exc.code}: {exc.message}"]
    if exc.code == "format_not_detected":
        parts.append("(here: --format FORMAT, or --mapping JSON with --platform PLATFORM)")
    for detail in exc.details[:5]:
        where = ", ".join(f"{k} {detail[k]}" for k in ("line", "column", "field") if k in detail)
        text = detail.get("message") or ""
        if text == exc.message:
            text = ""
        if where or text:
            parts.append(f"[{where}{': ' if where and text else ''}{text}]")
    return " ".join(parts)


def _settings_error(exc: Any) -> str:
    problems = []
    for error in exc.errors()[:3]:
        field = ".".join(str(p) for p in error.get("loc", ()))
        problems.append(f"HUNTAZE_{field.upper()}: {error.get('msg', 'invalid')}")
    return "invalid setting " + "; ".join(problems)


def first_line(exc: BaseException) -> str:
    """The first line of what a (driver) exception says, without SQLAlchemy's background
    link; the driver's own message when SQLAlchemy wraps one."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line.split(" (Background on this error")[0]


# -- settings and the database -------------------------------------------------------------


def settings() -> Settings:
    """The settings from the environment (read again for each command), with logging set up:
    ``HUNTAZE_LOG_LEVEL``, and Alembic's lines only with ``huntaze --verbose``.

    Raises:
        pydantic.ValidationError: for an invalid ``HUNTAZE_*`` value (:func:`handled` says which).
    """
    from huntaze.config import get_settings
    from huntaze.kit.logging import configure_logging

    get_settings.cache_clear()
    current = get_settings()
    level = current.log_level
    if STATE.verbose and logging.getLevelName(level.upper()) not in (logging.DEBUG,):
        level = "INFO"
    try:
        configure_logging(level, current.log_json)
    except ValueError as exc:
        fail(f"invalid setting HUNTAZE_LOG_LEVEL: {exc}")
    logging.getLogger("alembic").setLevel(logging.INFO if STATE.verbose else logging.WARNING)
    return current


def _parse(url: str) -> URL:
    from sqlalchemy.engine import make_url

    from huntaze.db.engine import normalise_url

    return make_url(normalise_url(url))


def sqlite_file(url: str) -> Path | None:
    """The absolute path of the SQLite file ``url`` names (relative paths are relative to the
    current directory, as SQLite takes them), or None for an in-memory database, a
    ``file:`` URI or another database.

    Raises:
        sqlalchemy.exc.ArgumentError: for a malformed URL.
    """
    parsed = _parse(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:") or "uri" in parsed.query:
        return None
    if parsed.query.get("mode") == "memory":
        return None
    return Path(database).expanduser().absolute()


def shown_url(url: str | None = None) -> str:
    """``url`` (default: ``HUNTAZE_DATABASE_URL``) as a person should see it: a SQLite file's
    absolute path, passwords and secret-looking query values masked (``***``)."""
    from huntaze.kit.redact import redact_text, redact_url

    if url is None:
        from huntaze.config import get_settings

        try:
            url = get_settings().database_url
        except Exception:
            return "(HUNTAZE_DATABASE_URL)"
    try:
        parsed = _parse(url)
        path = sqlite_file(url)
        if path is not None:
            parsed = parsed.set(database=str(path))
        return redact_url(parsed.render_as_string(hide_password=True))
    except Exception:
        return redact_text(url)


@dataclass
class Database:
    """An open, migrated database: its engine, how it is named to a person, whether this
    command created it (a new SQLite file), and the settings it was read from. As a context
    manager, it closes the engine's connections at the end."""

    engine: Engine
    shown: str
    created: bool
    settings: Settings

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.engine.dispose()


def open_database(*, creates: bool, migrate: bool = True) -> Database:
    """Open ``HUNTAZE_DATABASE_URL`` and (``migrate``) apply pending migrations.

    A SQLite file that does not exist yet is created only by the commands that set up a
    database (``creates``: ``db upgrade``, ``serve``, ``demo``); the others stop rather than
    work in a new, empty file (a command run from another directory, with the default
    ``sqlite:///./huntaze.db``, would otherwise start a second database there).

    Raises:
        CliError: no such SQLite file (and not ``creates``), or its directory is missing.
        pydantic.ValidationError, sqlalchemy.exc.SQLAlchemyError: as :func:`handled` reports.
    """
    from huntaze.db.engine import make_engine

    current = settings()
    url = current.database_url
    shown = shown_url(url)
    path = sqlite_file(url)
    created = False
    if path is not None and not path.exists():
        if not creates:
            fail(
                f"no database at {path} (HUNTAZE_DATABASE_URL is {_given(url)}). Run this "
                "command where your database is, set HUNTAZE_DATABASE_URL to it, or create a "
                "new one with `huntaze db upgrade`"
            )
        if not path.parent.is_dir():
            fail(f"cannot create the database {path}: the directory {path.parent} does not exist")
        created = True
    kwargs: dict[str, Any] = {}
    parsed = _parse(url)
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        kwargs["connect_args"] = {"connect_timeout": 10}
    engine = make_engine(url, **kwargs)
    if migrate:
        from huntaze.db.migrate import upgrade
        from huntaze.imports.writing.bulkload import repair

        try:
            upgrade(engine)
            repair(engine)  # what a bulk import killed half-way left out
        except BaseException:
            engine.dispose()
            raise
    if created:
        note(f"created a new database: {shown}")
    return Database(engine, shown, created, current)


def _given(url: str) -> str:
    import os

    from huntaze.kit.redact import redact_url

    if "HUNTAZE_DATABASE_URL" in os.environ:
        return redact_url(url)
    return f"not set, so the default {url}"


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    """Print ``rows`` as left-aligned columns under ``headers`` on stdout."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    for line in [headers, *rows]:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


def stdout_is_terminal() -> bool:
    """True when stdout is a terminal (tables) rather than a pipe."""
    return sys.stdout.isatty()
