"""Tag spelling: a tag is shown as the creator wrote it and matched on a normalised key."""

from __future__ import annotations

import unicodedata


def tag_key(tag: str) -> str:
    """Return the form tags are matched on: NFKC, case-folded, inner whitespace collapsed.

    ``"VIP"``, ``" vip "`` and ``"Vip"`` share the key ``"vip"``; ``"Straße"`` and
    ``"STRASSE"`` share ``"strasse"`` (Unicode case folding, Unicode Standard §3.13, through
    :meth:`str.casefold`).
    """
    return " ".join(unicodedata.normalize("NFKC", tag).casefold().split())
