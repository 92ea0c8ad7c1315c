"""OnlyFans: a channel that POSTs signed messages to the creator's relay (docs/relay.md), and a
loopback fake relay for tests."""

from huntaze.platforms.onlyfans.relay import OnlyFansRelayChannel, parse_retry_after
from huntaze.platforms.onlyfans.signature import sign, verify_signature

__all__ = ["OnlyFansRelayChannel", "parse_retry_after", "sign", "verify_signature"]
