"""The ``huntaze`` command: serve, worker, db upgrade, token create/list/revoke, import, demo.

``huntaze.cli:app`` is the console script. Loading this package imports only Typer and the
standard library: each command imports what it needs (SQLAlchemy, FastAPI, uvicorn, the
importers...) when it runs, so ``huntaze --help`` and ``--version`` answer at once.
Every command and flag is described in docs/cli.md.
"""

from __future__ import annotations

from typing import Annotated

import typer

from huntaze import __version__
from huntaze.cli import imports, server, tokens
from huntaze.cli.common import STATE

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _typer(help_text: str) -> typer.Typer:
    # Plain help (no Rich boxes): flags show without a type, and help needs no Rich import.
    # No pretty tracebacks: they print local variables, which may hold secrets.
    return typer.Typer(
        help=help_text,
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        context_settings=CONTEXT,
    )


app = _typer(
    "Huntaze: open growth backend for content creators.\n\n"
    "The database is HUNTAZE_DATABASE_URL (default sqlite:///./huntaze.db, in the current "
    "directory). Exit codes: 0 done; 1 rows rejected or the database failed; 2 a usage "
    "error (bad option, unknown creator, missing database file, unreadable file). "
    "Every command is described in docs/cli.md."
)
db_app = _typer("Database commands.")
token_app = _typer("API tokens: create, list, revoke.")
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"huntaze {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="also show migration (Alembic) and INFO log lines"),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", is_eager=True, callback=_version, help="print the version and exit"
        ),
    ] = False,
) -> None:
    """The options of ``huntaze`` itself (before the command)."""
    STATE.verbose = verbose


app.command("serve")(server.serve)
app.command("worker")(server.worker)
app.command("import")(imports.import_file)
app.command("demo")(server.demo)
db_app.command("upgrade")(server.db_upgrade)
token_app.command("create")(tokens.token_create)
token_app.command("list")(tokens.token_list)
token_app.command("revoke")(tokens.token_revoke)


def run() -> None:
    """Entry point for ``python -m huntaze``: the CLI, named ``huntaze`` in its help."""
    app(prog_name="huntaze")


__all__ = ["app", "run"]
