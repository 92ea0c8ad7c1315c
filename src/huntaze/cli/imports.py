"""``huntaze import PATH``: an export file of any size, with a progress bar."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer

from huntaze.cli.common import FAILED, handled, note, open_database


class _ProgressReader(io.RawIOBase):
    """A raw reader that advances a progress bar as bytes are read."""

    def __init__(self, raw: BinaryIO, advance: Any) -> None:
        self._raw = raw
        self._advance = advance

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self._advance(self._raw.tell())
        return len(data)


def import_file(
    path: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, metavar="PATH", help="the export file"
        ),
    ],
    format: Annotated[
        str | None,
        typer.Option(
            metavar="FORMAT", help="format name (docs/importing.md); detected when absent"
        ),
    ] = None,
    creator: Annotated[
        str | None,
        typer.Option(
            metavar="HANDLE", help="the creator whose fans these are; optional when there is one"
        ),
    ] = None,
    create_creator: Annotated[
        bool, typer.Option("--create-creator", help="create the --creator if it does not exist")
    ] = False,
    platform: Annotated[
        str | None, typer.Option(metavar="PLATFORM", help="platform, for a generic CSV")
    ] = None,
    mapping: Annotated[
        str | None, typer.Option(metavar="JSON", help="column mapping, for a generic CSV")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Import an export file into a creator's fans.

    Takes a file of any size and prints the report: the creator, the database, the counts
    and each rejected row (line, column, reason).

    Exit 1 when rows were rejected (the others are imported), 2 when nothing could be
    imported (an unknown creator, a file in no known format...).
    """
    with handled(), open_database(creates=False) as db:
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

        from huntaze.cli.tokens import resolve_creator
        from huntaze.config import get_settings
        from huntaze.db.engine import make_sessionmaker
        from huntaze.imports.service import import_stream, parse_mapping
        from huntaze.kit.clock import SystemClock

        parsed_mapping = parse_mapping(mapping)
        with make_sessionmaker(db.engine)() as session:
            found, created = resolve_creator(session, creator, db.shown, create=create_creator)
            session.commit()
        if created:
            note(f"created creator {found.handle!r} ({found.id})")
        batch_size = get_settings().import_batch_size
        err = Console(stderr=True)
        with (
            path.open("rb") as raw,
            Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                DownloadColumn(),
                TimeRemainingColumn(),
                console=err,
                disable=not err.is_terminal,
            ) as bar,
        ):
            task = bar.add_task(path.name, total=path.stat().st_size)
            reader = io.BufferedReader(
                _ProgressReader(raw, lambda pos: bar.update(task, completed=pos)), 1 << 16
            )
            report = import_stream(
                db.engine,
                found.id,
                reader,
                SystemClock(),
                format_name=format,
                platform=platform,
                mapping=parsed_mapping,
                batch_size=batch_size,
                default_currency=found.currency,
            )
    data = report.as_dict()
    if as_json:
        typer.echo(json.dumps({**data, "creator": found.handle, "database": db.shown}))
    else:
        typer.echo(f"{path} -> creator {found.handle} in {db.shown}")
        typer.echo(
            f"{data['format']}: {data['inserted']} inserted, {data['updated']} updated, "
            f"{data['unchanged']} unchanged, {data['rejected']} rejected"
        )
        for e in data["errors"][:50]:
            typer.echo(f"  line {e['line']}, {e['column'] or '-'}: {e['reason']}")
        if len(data["errors"]) > 50:
            typer.echo(f"  … and {len(data['errors']) - 50} more (--json lists them all)")
    if report.rejected:
        raise typer.Exit(FAILED)
