"""Shared fixtures. Tests run on SQLite by default and on PostgreSQL when
``HUNTAZE_TEST_DATABASE_URL`` is set (each xdist worker gets its own schema, named
``<HUNTAZE_TEST_SCHEMA or hz_test>_<worker>``, so two runs on one server can use two prefixes).
A test that needs a database of its own asks for ``fresh_db_url`` (the outbox and messaging
tests all do, through tests/sending.py)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from huntaze.api import create_app
from huntaze.auth.tokens import create_token_for
from huntaze.config import Settings
from huntaze.db.engine import make_engine, make_sessionmaker, normalise_url
from huntaze.db.migrate import upgrade
from huntaze.kit.clock import FrozenClock

PG_URL = os.environ.get("HUNTAZE_TEST_DATABASE_URL")


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of this worker's test database, migrated to head."""
    if PG_URL:
        schema = _schema_prefix()
        base = make_engine(PG_URL)
        with base.begin() as conn:
            # this worker's schema, and any per-test schema an interrupted run left behind
            leftovers = conn.scalars(
                text("SELECT nspname FROM pg_namespace WHERE nspname = :s OR nspname LIKE :t"),
                {"s": schema, "t": f"{schema}\\_t%"},
            ).all()
            for name in leftovers:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        base.dispose()
        url = _with_search_path(PG_URL, schema)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'huntaze.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head, copied for each test that needs a database of its own."""
    path = tmp_path_factory.mktemp("template") / "huntaze.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection checkpoints the WAL into the file
    return path


@pytest.fixture
def fresh_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own, migrated to head: a copy of the SQLite template, or a
    PostgreSQL schema made for the test and dropped after it (about 0.2 s)."""
    if not PG_URL:
        template: Path = request.getfixturevalue("sqlite_template")
        own = tmp_path / "own.db"
        shutil.copyfile(template, own)
        yield f"sqlite:///{own}"
        return
    schema = f"{_schema_prefix()}_t{uuid.uuid4().hex[:10]}"
    base = make_engine(PG_URL, pool_size=1)
    try:
        with base.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = _with_search_path(PG_URL, schema)
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
    finally:
        with base.begin() as conn:
            # A connection the test left open inside a transaction (a session never closed)
            # holds locks on the schema's tables: end it rather than wait for it.
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(l.pid) FROM pg_locks l "
                    "JOIN pg_class c ON c.oid = l.relation "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = :schema AND l.pid <> pg_backend_pid()"
                ),
                {"schema": schema},
            )
            conn.execute(text("SET LOCAL lock_timeout = '30s'"))
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        base.dispose()


def _schema_prefix() -> str:
    return f"{os.environ.get('HUNTAZE_TEST_SCHEMA', 'hz_test')}_{_worker()}"


def _with_search_path(url: str, schema: str) -> str:
    url = normalise_url(url)
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        secret_key_file=str(tmp_path / "key"),
        import_max_bytes=2 * 1024 * 1024,
        import_batch_size=7,
        onlyfans_relay_url="http://127.0.0.1:9/relay",
        onlyfans_relay_secret="test-relay-secret",
        allow_private_urls=True,  # the platforms' fakes listen on loopback
    )


@pytest.fixture
def client(settings: Settings, engine: Engine, clock: FrozenClock) -> Iterator[TestClient]:
    app = create_app(settings, engine, clock)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


Tenant = dict[str, Any]


@pytest.fixture
def make_tenant(sessions: sessionmaker[Session], clock: FrozenClock) -> Callable[..., Tenant]:
    """Create a fresh creator with a token: ``{"creator_id", "handle", "headers"}``."""

    def make(role: str = "owner", handle: str | None = None) -> Tenant:
        handle = handle or f"c{uuid.uuid4().hex[:12]}"
        with sessions() as session:
            issued = create_token_for(session, handle, clock.now(), role=role)
            session.commit()
        return {
            "creator_id": issued.creator_id,
            "handle": handle,
            "token": issued.secret,
            "headers": {"Authorization": f"Bearer {issued.secret}"},
        }

    return make


@pytest.fixture
def tenant(make_tenant: Callable[..., Tenant]) -> Tenant:
    return make_tenant()
