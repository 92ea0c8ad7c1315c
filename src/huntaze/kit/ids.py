"""Opaque, prefixed identifiers (``fan_…``, ``msg_…``) for API-facing rows."""

from __future__ import annotations

import secrets
import time


def new_id(prefix: str) -> str:
    """Return ``"<prefix>_<11 hex of Unix ms><16 hex random>"``.

    The time part keeps ids roughly in creation order, so B-tree inserts append instead of
    landing at random pages (a million-row import stays fast); the 64 random bits from
    :mod:`secrets` keep ids unguessable. Tenant filters, not secrecy, answer 404 for another
    creator's id.
    """
    return f"{prefix}_{time.time_ns() // 1_000_000:011x}{secrets.token_hex(8)}"


def new_ids(prefix: str, count: int) -> list[str]:
    """Return ``count`` ids like :func:`new_id`'s, from one call to the OS random source.

    For bulk writers (imports), where one ``secrets`` call per row costs more than the rest of
    the id.
    """
    head = f"{prefix}_{time.time_ns() // 1_000_000:011x}"
    random_hex = secrets.token_hex(8 * count)
    return [head + random_hex[i : i + 16] for i in range(0, 16 * count, 16)]


#: Hex digits of a row's number in :func:`new_id_head`'s ids: up to 16**8 - 1 rows per head.
SEQUENCE_DIGITS = 8


def new_id_head(prefix: str) -> str:
    """Return ``"<prefix>_<11 hex of Unix ms><8 hex random>"``, the head of a run of ids.

    For set-based writers that number their rows in SQL (``INSERT … SELECT`` with
    ``row_number()``): each row's id is the head plus its number as :data:`SEQUENCE_DIGITS`
    zero-padded lowercase hex, so the ids have :func:`new_id`'s length, are unique within the
    run, and sort in row order, which lets a million-row insert append to the primary-key
    B-tree instead of splitting pages all over it. The 32 random bits keep two runs started in
    the same millisecond apart and one run's ids unguessable from another's; within a run the
    ids are sequential, so any one of them reveals the others (tenant filters, not secrecy,
    guard rows).
    """
    return f"{prefix}_{time.time_ns() // 1_000_000:011x}{secrets.token_hex(4)}"
