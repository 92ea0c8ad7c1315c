"""``huntaze serve``, ``worker``, ``demo`` and ``db upgrade``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from huntaze.cli.common import handled, note, open_database

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from huntaze.config import Settings
    from huntaze.kit.clock import Clock
    from huntaze.outbox.worker import Worker


def _revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        revision: str | None = MigrationContext.configure(conn).get_current_revision()
        return revision


def db_upgrade() -> None:
    """Apply every pending migration.

    Migrates HUNTAZE_DATABASE_URL (creating a new SQLite file if there is none) and says
    which revision it is at."""
    with handled(), open_database(creates=True, migrate=False) as db:
        from huntaze.db.migrate import upgrade

        before = _revision(db.engine)
        upgrade(db.engine)
        after = _revision(db.engine)
        from huntaze.imports.writing.bulkload import repair

        repair(db.engine)  # what a bulk import killed half-way left out
    if before == after:
        note(f"database {db.shown} is up to date (revision {after})")
    else:
        note(f"database {db.shown} upgraded from revision {before or '(empty)'} to {after}")


def make_worker(
    engine: Engine,
    metrics: Any,
    settings: Settings,
    worker_id: str | None,
    batch: int,
    poll: float,
    clock: Clock | None = None,
) -> Worker:
    """A :class:`~huntaze.outbox.worker.Worker` sending with ``settings`` (its limits,
    secret keys and the private targets it may reach), reporting to ``metrics``; ``batch``
    messages claimed at once, ``poll`` seconds between polls when idle, on ``clock`` (the
    system's by default). Between batches it also runs the campaigns' scheduler
    (:func:`huntaze.campaigns.scheduler.tick`) and refreshes the dynamic segments
    (:func:`huntaze.segments.refresher.refresh_due`), and it rewrites campaign links for click
    tracking (:class:`huntaze.tracking.links.LinkRewriter`) as it sends."""
    from functools import partial

    from huntaze.campaigns.scheduler import tick
    from huntaze.config import box_from_settings
    from huntaze.kit.clock import SystemClock
    from huntaze.outbox.channels import ChannelFactory
    from huntaze.outbox.service import outbox_from_settings
    from huntaze.outbox.worker import Worker
    from huntaze.segments.refresher import refresh_due
    from huntaze.tracking.links import PURPOSE, LinkRewriter, LinkSigner

    clock = clock or SystemClock()
    outbox = outbox_from_settings(engine, clock, settings)
    box = box_from_settings(settings)
    channels = ChannelFactory(engine, settings, box)
    links = LinkRewriter(LinkSigner(box.subkeys(PURPOSE)), settings.public_base())
    return Worker(
        outbox,
        channels,
        worker_id=worker_id,
        batch=batch,
        poll_seconds=poll,
        observer=metrics.observe,
        # launches the scheduled campaigns that are due, ends the expired ones; refreshes
        # the dynamic segments
        jobs=[
            partial(tick, engine, clock),
            partial(refresh_due, engine, clock, settings.segment_refresh_seconds),
        ],
        prepare=links,
    )


def worker(
    worker_id: Annotated[
        str | None, typer.Option("--id", metavar="NAME", help="lease owner name")
    ] = None,
    batch: Annotated[int, typer.Option(metavar="N", min=1, help="messages claimed at once")] = 200,
    poll: Annotated[
        float, typer.Option(metavar="SECONDS", min=0.01, help="seconds between polls when idle")
    ] = 0.2,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            metavar="PORT",
            min=1,
            max=65535,
            help="serve this process's metrics on this port (bearer HUNTAZE_METRICS_TOKEN "
            "when set)",
        ),
    ] = None,
) -> None:
    """Send queued messages. Run as many as you like, on any hosts sharing the database.

    SIGTERM or Ctrl-C: the message in hand is finished, the rest of the batch released.
    --metrics-port serves this process's Prometheus metrics on HUNTAZE_HOST, behind
    HUNTAZE_METRICS_TOKEN as a bearer token when it is set (401 otherwise).
    """
    import signal

    with handled(), open_database(creates=False) as db:
        from huntaze.outbox.metrics import Metrics
        from huntaze.outbox.metrics_server import serve_metrics

        current = db.settings
        metrics = Metrics(db.engine)
        runner = make_worker(db.engine, metrics, current, worker_id, batch, poll)
        signal.signal(signal.SIGTERM, lambda *_: runner.stop())
        signal.signal(signal.SIGINT, lambda *_: runner.stop())
        if metrics_port:
            serve_metrics(
                metrics.registry,
                current.host,
                metrics_port,
                current.metrics_token.get_secret_value(),
            )
        note(f"worker {runner.worker_id} sending from {db.shown}")
        runner.run()


def serve(
    host: Annotated[
        str | None, typer.Option(metavar="ADDRESS", help="listen address (HUNTAZE_HOST)")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(metavar="PORT", min=1, max=65535, help="listen port (HUNTAZE_PORT)"),
    ] = None,
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
    """Serve the API and its docs.

    Runs the migrations first (creating a new SQLite file if there is none), then serves the
    API and its docs at /docs, with one in-process worker unless --no-worker (restarted if it
    dies, reported by /api/health).

    --demo fills an empty database with the demo creator, starts an OnlyFans relay and an
    SMTP server on 127.0.0.1 (stopped on exit), gives the demo creator sending accounts on
    them, prints curl lines to try, and records what they deliver in
    huntaze-demo-deliveries.jsonl next to the SQLite file.
    """
    with handled(), open_database(creates=True) as db:
        import uvicorn

        from huntaze import __version__
        from huntaze.api import create_app
        from huntaze.demo.serve import client_base

        current = db.settings
        host = host or current.host
        port = port or current.port
        base = client_base(host, port)
        note(f"Huntaze {__version__} serving {db.shown} at {base} (API docs: {base}/docs)")
        senders = None
        if demo_data:
            from rich.console import Console

            from huntaze.demo.serve import start_demo

            current, senders = start_demo(
                db.engine, current, host, port, Console(stderr=True, soft_wrap=True)
            )
        try:
            api = create_app(current, db.engine)
            runner = None
            if not no_worker:
                from huntaze.outbox.supervisor import SupervisedWorker

                metrics = api.state.ctx.metrics
                serve_settings = current
                engine = db.engine
                runner = SupervisedWorker(
                    lambda: make_worker(engine, metrics, serve_settings, None, 200, 0.2)
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


def demo() -> None:
    """Create the demo creator and print a token and curl lines.

    Fills (or refreshes) the demo creator from the shipped sample exports, and prints an
    owner token (the last line of stdout) and curl lines to try once `huntaze serve` runs.
    Sending needs `huntaze serve --demo`."""
    with handled(), open_database(creates=True) as db:
        from rich.console import Console

        from huntaze.db.engine import make_sessionmaker
        from huntaze.demo import build_demo
        from huntaze.demo.serve import print_demo
        from huntaze.kit.clock import SystemClock

        current = db.settings
        result = build_demo(db.engine, make_sessionmaker(db.engine), SystemClock())
        for name, report in result.reports.items():
            d = report.as_dict()
            note(
                f"{name}: {d['inserted']} inserted, {d['updated']} updated, "
                f"{d['unchanged']} unchanged, {d['rejected']} rejected"
            )
        note(f"database: {db.shown}")
        print_demo(
            Console(stderr=True, soft_wrap=True),
            result.token.secret,
            current.host,
            current.port,
            running=False,
        )
    typer.echo(result.token.secret)
