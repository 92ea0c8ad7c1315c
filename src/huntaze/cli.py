"""The ``huntaze`` command: serve, db upgrade, token create, import, demo."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from sqlalchemy import func, select

from huntaze.auth.tokens import create_token_for, get_or_create_creator, validate_handle
from huntaze.config import Settings, get_settings
from huntaze.crm.imports import import_stream, parse_mapping
from huntaze.db.engine import make_engine, make_sessionmaker
from huntaze.db.migrate import upgrade
from huntaze.kit.clock import SystemClock
from huntaze.kit.errors import ApiError
from huntaze.kit.logging import configure_logging
from huntaze.models.tenancy import Creator

app = typer.Typer(help="Huntaze: open growth backend for content creators.", no_args_is_help=True)
db_app = typer.Typer(help="Database commands.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
err = Console(stderr=True, soft_wrap=True)


def _engine() -> Any:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return engine


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration to HUNTAZE_DATABASE_URL."""
    _engine()
    err.print("database is up to date")


@token_app.command("create")
def token_create(
    creator: Annotated[str, typer.Option(help="creator handle (created if missing)")],
    role: Annotated[str, typer.Option(help="owner, manager, chatter or analyst")] = "owner",
    email: Annotated[str | None, typer.Option(help="the user's email")] = None,
) -> None:
    """Create a token (and the creator and user if missing); the token is the last line."""
    engine = _engine()
    sessions = make_sessionmaker(engine)
    try:
        with sessions() as session:
            issued = create_token_for(session, creator, SystemClock().now(), role=role, email=email)
            session.commit()
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    err.print(f"token for {creator} ({role}); it is shown once, store it now:")
    print(issued.secret)


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


def _resolve_creator(sessions: Any, handle: str | None) -> tuple[str, str]:
    now = SystemClock().now()
    with sessions() as session:
        if handle:
            creator = get_or_create_creator(session, validate_handle(handle), now)
        else:
            creators = session.scalars(select(Creator).limit(2)).all()
            count = session.scalar(select(func.count()).select_from(Creator))
            if count != 1:
                raise ValueError("name the creator with --creator HANDLE")
            creator = creators[0]
        session.commit()
        return creator.id, creator.currency


@app.command("import")
def import_file(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    format: Annotated[str | None, typer.Option(help="format name; detected when absent")] = None,
    creator: Annotated[str | None, typer.Option(help="creator handle")] = None,
    platform: Annotated[str | None, typer.Option(help="platform, for a generic CSV")] = None,
    mapping: Annotated[str | None, typer.Option(help="JSON column mapping (generic CSV)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Import an export file of any size; prints the report (exit 1 if rows were rejected)."""
    engine = _engine()
    sessions = make_sessionmaker(engine)
    settings = get_settings()
    try:
        creator_id, currency = _resolve_creator(sessions, creator)
        size = path.stat().st_size
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
            task = bar.add_task(path.name, total=size)
            reader = io.BufferedReader(
                _ProgressReader(raw, lambda pos: bar.update(task, completed=pos)), 1 << 16
            )
            report = import_stream(
                engine,
                creator_id,
                reader,
                SystemClock(),
                format_name=format,
                platform=platform,
                mapping=parse_mapping(mapping),
                batch_size=settings.import_batch_size,
                default_currency=currency,
            )
    except ApiError as exc:
        err.print(f"[red]error:[/red] {exc.code}: {exc.message} {exc.details or ''}")
        raise typer.Exit(2) from exc
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    data = report.as_dict()
    if as_json:
        print(json.dumps(data, ensure_ascii=False))
    else:
        print(
            f"{data['format']}: {data['inserted']} inserted, {data['updated']} updated, "
            f"{data['unchanged']} unchanged, {data['rejected']} rejected"
        )
        for e in data["errors"][:50]:
            print(f"  line {e['line']}, {e['column'] or '-'}: {e['reason']}")
    if report.rejected:
        raise typer.Exit(1)


@app.command("demo")
def demo() -> None:
    """Create the demo creator from the shipped sample exports; print a token and curl lines."""
    from huntaze.demo import build_demo
    from huntaze.demo.serve import print_demo

    engine = _engine()
    settings = get_settings()
    result = build_demo(engine, make_sessionmaker(engine), SystemClock())
    for name, report in result.reports.items():
        d = report.as_dict()
        err.print(
            f"{name}: {d['inserted']} inserted, {d['updated']} updated, "
            f"{d['unchanged']} unchanged, {d['rejected']} rejected"
        )
    print_demo(err, result.token.secret, settings.host, settings.port)
    print(result.token.secret)


def _make_worker(
    engine: Any,
    metrics: Any,
    settings: Settings,
    worker_id: str | None,
    batch: int,
    poll: float,
) -> Any:
    """A :class:`~huntaze.messaging.worker.Worker` sending with ``settings`` (its limits,
    secret keys and the private targets it may reach), reporting to ``metrics``."""
    from huntaze.kit.crypto import box_from_settings
    from huntaze.messaging.channels import ChannelFactory
    from huntaze.messaging.outbox import outbox_from_settings
    from huntaze.messaging.worker import Worker

    outbox = outbox_from_settings(engine, SystemClock(), settings)
    channels = ChannelFactory(engine, settings, box_from_settings(settings))
    return Worker(
        outbox,
        channels,
        worker_id=worker_id,
        batch=batch,
        poll_seconds=poll,
        observer=metrics.observe,
    )


@app.command("worker")
def worker(
    worker_id: Annotated[str | None, typer.Option("--id", help="lease owner name")] = None,
    batch: Annotated[int, typer.Option(help="messages claimed at once")] = 200,
    poll: Annotated[float, typer.Option(help="seconds between polls when idle")] = 0.2,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            help="serve this process's metrics on this port (bearer HUNTAZE_METRICS_TOKEN when set)"
        ),
    ] = None,
) -> None:
    """Send queued messages. Run as many as you like, on any hosts sharing the database.

    SIGTERM or Ctrl-C: the message in hand is finished, the rest of the batch released.
    ``--metrics-port`` serves this process's Prometheus metrics on ``HUNTAZE_HOST``, behind
    ``HUNTAZE_METRICS_TOKEN`` as a bearer token when it is set (401 otherwise).
    """
    import signal

    from huntaze.messaging.metrics import Metrics
    from huntaze.messaging.metrics_server import serve_metrics

    settings = get_settings()
    engine = _engine()
    metrics = Metrics(engine)
    runner = _make_worker(engine, metrics, settings, worker_id, batch, poll)
    signal.signal(signal.SIGTERM, lambda *_: runner.stop())
    signal.signal(signal.SIGINT, lambda *_: runner.stop())
    if metrics_port:
        serve_metrics(
            metrics.registry,
            settings.host,
            metrics_port,
            settings.metrics_token.get_secret_value(),
        )
    runner.run()


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="listen address")] = None,
    port: Annotated[int | None, typer.Option(help="listen port")] = None,
    demo_data: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="fill an empty database with the demo creator and deliver its messages to a "
            "relay and an SMTP server on loopback",
        ),
    ] = False,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="do not send from this process")
    ] = False,
) -> None:
    """Run the migrations, then serve the API (and /docs) with uvicorn, and one in-process
    worker unless ``--no-worker`` (supervised: restarted if it dies, reported by
    ``/api/health``).

    ``--demo`` fills an empty database with the demo creator, starts an OnlyFans relay and an
    SMTP server on 127.0.0.1 (stopped on exit), gives the demo creator sending accounts on
    them and records what they deliver in ``huntaze-demo-deliveries.jsonl`` next to the
    SQLite file (:mod:`huntaze.demo.sending`).
    """
    import uvicorn

    from huntaze.api import create_app

    settings = get_settings()
    engine = _engine()
    host = host or settings.host
    port = port or settings.port
    senders = None
    if demo_data:
        from huntaze.demo.serve import start_demo

        settings, senders = start_demo(engine, settings, host, port, err)
    try:
        api = create_app(settings, engine)
        runner = None
        if not no_worker:
            from huntaze.messaging.supervisor import SupervisedWorker

            metrics = api.state.ctx.metrics
            serve_settings = settings
            runner = SupervisedWorker(
                lambda: _make_worker(engine, metrics, serve_settings, None, 200, 0.2)
            )
            api.state.ctx.worker = runner.start()
        try:
            uvicorn.run(api, host=host, port=port, log_level="warning")
        finally:
            if runner is not None:
                runner.stop()
    finally:
        if senders is not None:
            senders.stop()


def main() -> None:  # pragma: no cover
    """Entry point for ``python -m huntaze``."""
    app()
    sys.exit(0)
