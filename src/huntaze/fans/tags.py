"""Tag spelling: a tag is shown as the creator wrote it and matched on a normalised key.

Which spelling a fan keeps when two spellings share a key (``VIP`` and ``vip``):

- through the API (create, replace, patch), the request's list replaces the fan's tags, and
  of two spellings of one key in that list the first given is kept (the request schema,
  ``fans.schemas``, and :func:`unique_by_key` both keep the first); so sending ``["vip"]``
  to a fan tagged ``VIP`` respells it;
- through an import, tags are only added: a spelling the fan already has stays, and of two
  spellings in one file the first written is kept;
- migration 0006 kept, of spellings already stored on one fan, the first in code-point
  order (``VIP`` before ``vip``).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable

from huntaze.models.crm import TAG_KEY_LENGTH

#: A key longer than this is shortened to its head and a digest of the whole key (see
#: :func:`tag_key`), so it fits ``fan_tags.tag_key``.
MAX_KEY_LENGTH = TAG_KEY_LENGTH
_DIGEST_CHARS = 32
_HEAD_CHARS = MAX_KEY_LENGTH - _DIGEST_CHARS - 1


def tag_key(tag: str) -> str:
    """Return the form tags are matched on: NFKC, case-folded, inner whitespace collapsed.

    ``"VIP"``, ``" vip "`` and ``"Vip"`` share the key ``"vip"``; ``"Straße"`` and
    ``"STRASSE"`` share ``"strasse"`` (Unicode case folding, Unicode Standard §3.13, through
    :meth:`str.casefold`; compatibility normalisation NFKC, Unicode Standard Annex #15).

    NFKC can lengthen text (one character may expand to up to 18), so a key longer than
    :data:`MAX_KEY_LENGTH` characters becomes its first characters, ``~`` and 32 hex digits of
    the SHA-256 of the whole key: still one key per spelling class, and within the column.
    Never raises.
    """
    key = " ".join(unicodedata.normalize("NFKC", tag).casefold().split())
    if len(key) <= MAX_KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:_DIGEST_CHARS]
    return f"{key[:_HEAD_CHARS]}~{digest}"


def unique_by_key(tags: Iterable[str]) -> list[tuple[str, str]]:
    """Return ``(tag, key)`` pairs for ``tags``, the first spelling of each key only, in order.

    Blank tags (empty once spaces are collapsed) are dropped.
    """
    seen: set[str] = set()
    pairs: list[tuple[str, str]] = []
    for tag in tags:
        key = tag_key(tag)
        if key and key not in seen:
            seen.add(key)
            pairs.append((tag, key))
    return pairs
