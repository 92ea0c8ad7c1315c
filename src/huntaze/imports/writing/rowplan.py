"""Planning the row path's writes: each record is classified against the stored fans.

What :func:`plan_fans` decides for a batch of records, :mod:`.blocks` decides for a
:class:`~huntaze.imports.records.FanBlock` of the columnar path; both hand the rows
stored with another fingerprint to :func:`plan_pending`, which reads their stored values and
compares them (:class:`~huntaze.imports.writing.compare.FanComparer`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import attrgetter
from typing import Any

import orjson

from huntaze.fans.tags import tag_key
from huntaze.imports.records import FanRecord
from huntaze.imports.report import ImportReport
from huntaze.imports.writing.compare import FanComparer
from huntaze.imports.writing.plan import Plan, Planner, Tally, fingerprint, token
from huntaze.kit.ids import new_ids


def _single(names: list[str]) -> Callable[[FanRecord], tuple[Any, ...]]:
    """``attrgetter`` for zero or one name, still returning a tuple."""
    if not names:
        return lambda _rec: ()
    getter = attrgetter(names[0])
    return lambda rec: (getter(rec),)


def plan_fans(
    writer: Planner, conn: Any, plan: Plan, records: list[FanRecord], count: bool
) -> dict[str, str]:
    """Classify ``records`` (the row path) against the stored fans into ``plan``; return
    ``{platform_fan_id: fan id}`` for all of them.

    A fan whose fingerprint for this format matches the row's is unchanged (one indexed
    read per batch, so re-importing a file writes nothing). Otherwise its stored values are
    read and compared: a real difference is an update; the same values under another
    format's import only record the new fingerprint.
    """
    provides = writer.parser.provides
    columns = sorted(provides)
    hashed = [c for c in columns if c != "custom_fields"]
    read_provided = attrgetter(*hashed) if len(hashed) > 1 else _single(hashed)
    stamp = writer.store.stamp
    fmt = writer.parser.format
    now = stamp(writer.clock.now())
    known = writer.store.select_fingerprints(
        conn, writer.creator_id, writer.parser.platform, [r.platform_fan_id for r in records], fmt
    )
    ids: dict[str, str] = {}
    fresh = iter(new_ids("fan", len(records) - len(known)))
    pending: list[tuple[FanRecord, list[Any], str, str]] = []
    for rec in records:
        custom_text = (
            rec.custom_json or orjson.dumps(rec.custom_fields, option=orjson.OPT_SORT_KEYS).decode()
        )
        parts = [token(value) for value in read_provided(rec)] if hashed else []
        parts.append(custom_text)
        parts.extend(sorted(rec.tags))
        digest = fingerprint(parts)
        found = known.get(rec.platform_fan_id)
        if found is not None and found[1] == digest:
            ids[rec.platform_fan_id] = found[0]
            if count:
                writer.report.unchanged += 1
            continue
        row: list[Any] = [
            found[0] if found is not None else next(fresh),
            writer.creator_id,
            writer.parser.platform,
            rec.platform_fan_id,
            rec.username,
            rec.display_name,
            rec.email,
            rec.subscription_status,
            stamp(rec.subscribed_at),
            stamp(rec.expires_at),
            stamp(rec.last_active_at),
            rec.lifetime_value_cents or 0,
            rec.currency or writer.default_currency,
            rec.consent or "unknown",
            custom_text,
            '{"%s":"%s"}' % (fmt, digest),  # noqa: UP031 - format names are [a-z_]
            now,
            now,
        ]
        fan_id = ids[rec.platform_fan_id] = row[0]
        if found is None:
            plan.new_fans.append(tuple(row))
            plan.tags.extend((fan_id, tag) for tag in rec.tags)
            if count:
                writer.report.inserted += 1
        else:
            pending.append((rec, row, custom_text, digest))
    plan_pending(writer, conn, plan, pending, count)
    return ids


def plan_pending(
    writer: Planner,
    conn: Any,
    plan: Plan,
    pending: list[tuple[FanRecord, list[Any], str, str]],
    count: bool,
    tally: Tally | ImportReport | None = None,
) -> None:
    """Classify rows whose key is stored with another fingerprint: read the stored
    values, and plan an update where they differ, else only the new fingerprint."""
    if not pending:
        return
    counts = writer.report if tally is None else tally
    provides = writer.parser.provides
    columns = sorted(provides)
    comparer = FanComparer(columns)
    stored = writer.store.select_existing_fans(
        conn,
        writer.creator_id,
        writer.parser.platform,
        [rec.platform_fan_id for rec, *_ in pending],
        columns,
        with_purchases="lifetime_value_cents" in provides,
    )
    stored_tags: dict[str, set[str]] = {}
    if any(rec.tags for rec, *_ in pending):
        stored_tags = writer.store.select_tag_keys(conn, [row[0] for _, row, *_ in pending])
    for rec, row, custom_text, digest in pending:
        fan_id = row[0]
        values = stored[rec.platform_fan_id]
        new_tags = _new_tags(rec.tags, stored_tags.get(fan_id, set()))
        if new_tags or comparer.changed(row, custom_text, rec.custom_fields, *values[1:]):
            plan.changed_fans.append(tuple(row))
            plan.tags.extend((fan_id, tag) for tag in new_tags)
            if count:
                counts.updated += 1
        else:
            plan.fingerprints.append((fan_id, digest))
            if count:
                counts.unchanged += 1


def _new_tags(tags: Iterable[str], stored_keys: set[str]) -> list[str]:
    """Return the tags of ``tags`` whose key is not stored yet, one spelling per key."""
    seen = set(stored_keys)
    new: list[str] = []
    for tag in tags:
        key = tag_key(tag)
        if key not in seen:
            seen.add(key)
            new.append(tag)
    return new
