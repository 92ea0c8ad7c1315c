"""Planning the writes of a :class:`~huntaze.imports.records.FanBlock`.

The same decisions as the writer's row path (:class:`~huntaze.imports.writing.writer.ImportWriter`),
made a block at a time: one indexed read of the stored keys and fingerprints, then each row
is new, unchanged (same fingerprint) or pending (stored with another fingerprint: its stored
values are read and compared by the row path's rules). New rows are assembled as Arrow
columns: on PostgreSQL written out as CSV by pyarrow's C++ writer for ``COPY``, on SQLite
turned into the tuples of ``executemany``. Python touches each row only to hash its
fingerprint text (BLAKE2b, :mod:`hashlib`) and look up its key.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from huntaze.imports.records import FanBlock, FanRecord
from huntaze.imports.writing.plan import Plan, Planner, Tally
from huntaze.imports.writing.rowplan import plan_pending
from huntaze.imports.writing.store import FAN_INSERT_COLUMNS, TIMESTAMP_COLUMNS, ImportStore
from huntaze.kit.ids import new_ids

if TYPE_CHECKING:
    from huntaze.imports.report import ImportReport


def plan_block(
    writer: Planner,
    conn: Any,
    plan: Plan,
    block: FanBlock,
    tally: Tally | ImportReport,
    optimistic: bool = False,
) -> None:
    """Classify the rows of ``block`` into ``plan`` and count them in ``tally``.

    ``optimistic`` (a first import, whose creator had no fans) skips the read of the stored
    keys: every row is planned as new, and ``plan.optimistic`` keeps the block, so that the
    writer can plan it again should one of its keys have come from an earlier block.
    """
    parser = writer.parser
    store = writer.store
    keys = block.keys
    known: dict[str, tuple[str, str | None]] = {}
    if optimistic:
        plan.optimistic = block
    else:
        known = store.select_fingerprints(
            conn, writer.creator_id, parser.platform, keys, parser.format
        )
    blake = hashlib.blake2b
    texts = pc.cast(block.fingerprint, pa.binary()).to_pylist()
    digests = [blake(text, digest_size=16).hexdigest() for text in texts]
    report = tally
    if not known:
        new: list[int] | None = None
        pending: list[int] = []
        report.inserted += len(keys)
    else:
        new, pending = [], []
        for i, (key, digest) in enumerate(zip(keys, digests, strict=True)):
            found = known.get(key)
            if found is None:
                new.append(i)
            elif found[1] == digest:
                report.unchanged += 1
            else:
                pending.append(i)
        report.inserted += len(new)
    now = store.stamp(writer.clock.now())
    if new is None or new:
        size = len(keys) if new is None else len(new)
        chosen = digests if new is None else [digests[i] for i in new]
        arrays = _arrays(writer, block, new, chosen, new_ids("fan", size), now, store)
        store.stage_new_fans(plan, arrays, size)
    if pending:
        ids = [known[keys[i]][0] for i in pending]
        chosen = [digests[i] for i in pending]
        arrays = _arrays(writer, block, pending, chosen, ids, now, store)
        rows = [list(r) for r in zip(*(a.to_pylist() for a in arrays), strict=True)]
        custom = FAN_INSERT_COLUMNS.index("custom_fields")
        lines = block.lines
        items = []
        for row, i, digest in zip(rows, pending, chosen, strict=True):
            text = row[custom]
            rec = FanRecord(
                parser.platform, keys[i], int(lines[i]), custom_fields=orjson.loads(text)
            )
            items.append((rec, row, text, digest))
        plan_pending(writer, conn, plan, items, count=True, tally=tally)


def _arrays(
    writer: Planner,
    block: FanBlock,
    index: list[int] | None,
    digests: list[str],
    ids: list[str],
    now: str | None,
    store: ImportStore,
) -> list[Any]:
    """The rows ``index`` of ``block`` (all when ``None``) as Arrow arrays, one per column
    of :data:`~huntaze.imports.writing.store.FAN_INSERT_COLUMNS`, in the stored form."""
    size = len(ids)
    taken = None if index is None else pa.array(index, pa.int64())

    def const(value: Any, kind: Any = pa.string()) -> Any:
        return pc.fill_null(pa.nulls(size, kind), pa.scalar(value, kind))

    fmt = writer.parser.format
    arrays: list[Any] = []
    for name in FAN_INSERT_COLUMNS:
        if name == "id":
            arrays.append(pa.array(ids, pa.string()))
        elif name == "creator_id":
            arrays.append(const(writer.creator_id))
        elif name == "platform":
            arrays.append(const(writer.parser.platform))
        elif name == "import_fingerprints":
            arrays.append(pa.array([f'{{"{fmt}":"{d}"}}' for d in digests], pa.string()))
        elif name in ("created_at", "updated_at"):
            arrays.append(const(now))
        else:
            column = block.columns.get(name)
            if column is None:
                kind = pa.int64() if name == "lifetime_value_cents" else pa.string()
                column = pa.nulls(size, kind)
            elif taken is not None:
                column = pc.take(column, taken)
            if name in TIMESTAMP_COLUMNS:
                column = store.stored_times(column)
            elif name == "lifetime_value_cents":
                column = pc.fill_null(column, 0)
            elif name == "currency" and writer.default_currency is not None:
                column = pc.fill_null(column, writer.default_currency)
            elif name == "consent":
                column = pc.fill_null(column, "unknown")
            arrays.append(column)
    return arrays
