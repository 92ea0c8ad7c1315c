"""What one import batch will write, and the fingerprint that says a fan is unchanged."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from huntaze.db.base import db_timestamp

if TYPE_CHECKING:
    from huntaze.imports.base import Parser
    from huntaze.imports.report import ImportReport
    from huntaze.imports.writing.store import ImportStore
    from huntaze.kit.clock import Clock


def token(value: Any) -> str:
    """A value's text in a fingerprint: ``None`` and ``""`` differ; a time is its stored UTC
    text (``YYYY-MM-DD HH:MM:SS.ffffff``), as the block path renders it."""
    if value is None:
        return "\x00"
    if isinstance(value, datetime):
        return db_timestamp(value, False) or ""
    return str(value)


def fingerprint(values: list[str]) -> str:
    """Return a 128-bit BLAKE2b hex digest of ``values`` joined by a unit separator."""
    return hashlib.blake2b("\x1f".join(values).encode(), digest_size=16).hexdigest()


@dataclass(slots=True)
class Plan:
    """The writes of one batch, decided before any of them is made (rows are tuples in
    :data:`huntaze.imports.writing.store.FAN_INSERT_COLUMNS` order, database-ready)."""

    new_fans: list[tuple[Any, ...]] = field(default_factory=list)
    changed_fans: list[tuple[Any, ...]] = field(default_factory=list)
    tags: list[tuple[str, str]] = field(default_factory=list)
    purchases: list[tuple[Any, ...]] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)
    fingerprints: list[tuple[str, str]] = field(default_factory=list)
    new_csv: bytes | None = None  # a block's new fans as CSV, where the store loads CSV
    #: A block planned without reading the stored keys (a first import): its rows are all
    #: taken as new, and if one turns out stored, the writer plans the block again.
    optimistic: Any = None
    tally: Tally = field(default_factory=lambda: Tally())


@dataclass(slots=True)
class Tally:
    """Rows counted as inserted, updated and unchanged (the report's counts, or a share of
    them that a batch adds once it is written)."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def add_to(self, other: Any) -> None:
        """Add these counts to ``other`` (a :class:`Tally` or an ``ImportReport``)."""
        other.inserted += self.inserted
        other.updated += self.updated
        other.unchanged += self.unchanged


class Planner(Protocol):
    """What planning a batch reads of the import that runs it
    (:class:`~huntaze.imports.writing.writer.ImportWriter` is one): the planning modules
    (:mod:`.blocks`, :mod:`.rowplan`, :mod:`.purchases`) take this rather than the writer,
    so they do not import the module that imports them."""

    creator_id: str
    parser: Parser
    clock: Clock
    default_currency: str | None
    report: ImportReport
    store: ImportStore
