"""Engines and sessions for SQLite (WAL, the embedded default) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from huntaze.config import get_settings

#: connections a pool may open beyond ``pool_size`` for a burst (closed again when returned)
POOL_OVERFLOW = 10


#: SQLite's page cache per connection: 64 MiB (a negative ``cache_size`` is in KiB).
SQLITE_CACHE = -65536


def normalise_url(url: str) -> str:
    """Return ``url`` with the psycopg 3 driver for ``postgresql://`` and ``postgres://``."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def bucket_of(text: str | None) -> int | None:
    """The first 32 bits of ``text``'s MD5 digest as an unsigned integer (0 to 2**32 - 1):
    a stable, evenly spread bucket (RFC 1321; used for assignment, not for security). The
    same value as PostgreSQL's ``('x' || substr(md5(text), 1, 8))::bit(32)::bigint``."""
    if text is None:
        return None
    digest = hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
    return int(digest[:8], 16)


def make_engine(url: str, *, pool_size: int | None = None, **kwargs: Any) -> Engine:
    """Create an engine for ``url``.

    The pool (SQLAlchemy's ``QueuePool``) keeps up to ``pool_size`` connections, by default
    ``HUNTAZE_DB_POOL_SIZE`` (50), and opens up to ``POOL_OVERFLOW`` more for a burst. Sync
    routes run in anyio's thread pool (40 threads) and a request's session holds at most one
    connection, only while a transaction is open (:func:`huntaze.context.get_session`), so
    50 leaves room for the in-process worker, the health check and an import's writer. In
    ``kwargs``, ``pool_timeout`` (default 30 s) bounds the wait for a connection, and a
    ``poolclass`` replaces the pool; in-memory SQLite URLs keep SQLAlchemy's
    ``SingletonThreadPool``; both ignore ``pool_size``.

    SQLite gets WAL journaling, ``synchronous=NORMAL``, a 30 s busy timeout, a 64 MiB page
    cache and foreign keys on (https://www.sqlite.org/wal.html, /pragma.html). Its transactions
    are begun by SQLAlchemy: a connection with the execution option
    ``sqlite_begin="IMMEDIATE"`` takes the write lock at BEGIN, which serialises outbox claims
    (the recipe of SQLAlchemy's pysqlite docs, "Serializable isolation / Savepoints").
    PostgreSQL gets a pre-ping pool; a connection with the execution option
    ``postgresql_synchronous_commit_off=True`` commits without waiting for the WAL flush.
    Both hide bound parameters from error messages (``hide_parameters``): a failed statement
    must never print a request body, a token hash or an encrypted secret into a log.

    Raises:
        sqlalchemy.exc.ArgumentError: for a malformed URL.
    """
    url = normalise_url(url)
    parsed = make_url(url)
    if "poolclass" not in kwargs and "pool" not in kwargs and _queue_pooled(parsed):
        kwargs.setdefault("max_overflow", POOL_OVERFLOW)
        kwargs["pool_size"] = get_settings().db_pool_size if pool_size is None else pool_size
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            hide_parameters=True,
            **kwargs,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            if parsed.database and parsed.database != ":memory:":
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA cache_size={SQLITE_CACHE}")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.close()
            # the A/B tests' assignment bucket, which PostgreSQL computes with md5 itself
            dbapi_conn.create_function("huntaze_bucket", 1, bucket_of, deterministic=True)
            # SQLAlchemy, not the driver, starts transactions (so BEGIN IMMEDIATE is possible)
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "checkout")
        def _sqlite_no_driver_transactions(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
            # a connection once used with isolation_level="AUTOCOMMIT" comes back from the
            # pool reset to the driver's implicit BEGIN, which would hold the write lock of a
            # raw autocommit writer (the outbox's hot path) until it closed
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    engine = create_engine(url, pool_pre_ping=True, hide_parameters=True, **kwargs)

    @event.listens_for(engine, "begin")
    def _pg_begin(conn: Any) -> None:
        if conn.get_execution_options().get("postgresql_synchronous_commit_off"):
            conn.exec_driver_sql("SET LOCAL synchronous_commit = off")

    return engine


def _queue_pooled(url: URL) -> bool:
    """True when SQLAlchemy gives ``url`` a ``QueuePool``: anything but in-memory SQLite,
    which gets a ``SingletonThreadPool`` (the rule of the pysqlite dialect)."""
    if url.get_backend_name() != "sqlite":
        return True
    return bool(url.database) and url.database != ":memory:" and url.query.get("mode") != "memory"


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory bound to ``engine`` (``expire_on_commit=False``)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: Callable[[], Session]) -> Iterator[Session]:
    """Yield a session from ``factory`` that commits on success, rolls back on any error, and
    is closed either way."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
