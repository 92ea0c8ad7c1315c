"""Guess an import file's format from its first bytes, by the markers in formats.md.

The generic CSV needs a user's mapping, so it is never detected.
"""

from __future__ import annotations

import csv
import io

from huntaze.imports.reading.csvread import normalise_name

#: Bytes of the file :func:`detect_format` is meant to see.
HEAD_SIZE = 64 * 1024


def _csv_header(text: str) -> set[str] | None:
    """The normalised names of the first non-blank CSV record, or None if unreadable."""
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            names = {normalise_name(cell) for cell in row}
            names.discard("")
            if names:
                return names
    except csv.Error:
        return None
    return None


def _detect_csv(names: set[str]) -> str | None:
    if (
        "patron status" in names
        and "patronage since date" in names
        and ("pledge amount" in names or "pledge $" in names)
    ):
        return "patreon_members"
    if "email" in names and (
        "active_subscription" in names or "stripe_connected_customer_id" in names
    ):
        return "substack_subscribers"
    if "datetime (utc)" in names and "transactiontype" in names:
        return "kofi_payments"
    return None


def _detect_json(text: str) -> str | None:
    """Substring checks on the head of a JSON document (it may be cut mid-document)."""
    if text.startswith("[") and (
        '"string_list_data"' in text or ('"title"' in text and '"media_list_data"' in text)
    ):
        return "instagram_followers"
    if '"FansList"' in text:
        return "tiktok_followers_json"
    if '"subscribedOnData"' in text or '"subscribedOn"' in text:
        return "onlyfans_fans"
    if '"description"' in text and '"createdAt"' in text and ('"net"' in text or '"fee"' in text):
        return "onlyfans_transactions"
    return None


def _detect_txt(text: str) -> str | None:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if lines and lines[0].startswith("Date:") and any(s.startswith("Username:") for s in lines):
        return "tiktok_followers_txt"
    return None


def detect_format(head: bytes) -> str | None:
    """Return the format name of a file from its first bytes (about 64 KiB), or None.

    ``head`` is decoded as UTF-8 (BOM dropped, bad bytes replaced). JSON (first non-blank
    character ``[`` or ``{``) is told by its keys: ``string_list_data`` or ``title`` with
    ``media_list_data`` in a top-level array -> ``instagram_followers``; ``FansList`` ->
    ``tiktok_followers_json``; ``subscribedOnData``/``subscribedOn`` -> ``onlyfans_fans``;
    ``description`` + ``createdAt`` + ``net`` or ``fee`` -> ``onlyfans_transactions``. A text
    whose first line starts ``Date:`` and with a ``Username:`` line ->
    ``tiktok_followers_txt``. Otherwise the first CSV record is read as a header and matched
    against the marker columns: ``patreon_members``, ``substack_subscribers``,
    ``kofi_payments``. Never raises.
    """
    text = head.decode("utf-8-sig", errors="replace").lstrip("\ufeff \t\r\n")
    if not text:
        return None
    if text[0] in "[{":
        return _detect_json(text)
    found = _detect_txt(text)
    if found is not None:
        return found
    names = _csv_header(text)
    return _detect_csv(names) if names else None
