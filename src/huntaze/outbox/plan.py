"""What one claim may take from one account, planned before any row is locked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Plan:
    """How many rows one account may take in this claim.

    Attributes:
        account: the locked ``sending_accounts`` row (id, platform, channel, breaker…).
        take: the most rows to claim (send-rate capacity, batch room, per-account share).
        probe: True when the breaker half-opens: ``take`` is 1 and the account is marked
            ``half_open`` if the probe is claimed.
        limited: the account has send-rate windows.
    """

    account: Any
    take: int
    probe: bool = False
    limited: bool = False
