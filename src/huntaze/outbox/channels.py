"""Builds the channel for a sending account (email, OnlyFans relay, no-op)."""

from __future__ import annotations

from sqlalchemy import Engine, select

from huntaze.config import Settings
from huntaze.kit.crypto import SecretBox
from huntaze.models.messaging import SendingAccount
from huntaze.platforms.base import (
    AccountConfig,
    Channel,
    OutgoingMessage,
    PermanentError,
    SendResult,
)


def account_config(account: SendingAccount, box: SecretBox) -> AccountConfig:
    """The channel's view of an account, with the secret decrypted.

    Raises:
        ValueError: if the secret cannot be decrypted with the configured keys.
    """
    secret = box.decrypt(account.secret_encrypted) if account.secret_encrypted else None
    return AccountConfig(
        account_id=account.id,
        platform=account.platform,
        settings=dict(account.settings or {}),
        secret=secret,
    )


class NoopChannel:
    """Accepts every message without sending anything (benchmarks, dry runs); a repeat has no
    effect either, so ``deduplicates`` is True."""

    deduplicates = True

    def send(self, message: OutgoingMessage) -> SendResult:
        """Return an empty result at once."""
        return SendResult(external_id=None)

    def close(self) -> None:
        """Nothing to release."""


class ChannelFactory:
    """Makes and caches one channel per sending account, keyed by the account's
    ``config_version``: a claim that carries a newer version than the cached channel's (the
    account's URL, secret, SMTP settings or sender changed) closes the cached channel and
    builds it again from the account as it is now, in every worker, on its next claim.

    Raises (from :meth:`get`):
        PermanentError: for an account that no longer exists, a manual account, or a secret
            the configured keys cannot decrypt.
    """

    def __init__(self, engine: Engine, settings: Settings, box: SecretBox) -> None:
        self.engine = engine
        self.settings = settings
        self.box = box
        self._channels: dict[str, Channel] = {}
        self._versions: dict[str, int] = {}

    def get(self, account_id: str, version: int = 0) -> Channel:
        """The channel of ``account_id``, built on first use and again once ``version`` (the
        ``config_version`` a claim read) is newer than the one it was built from."""
        channel = self._channels.get(account_id)
        if channel is not None and version > self._versions.get(account_id, 0):
            self.forget(account_id)
            channel = None
        if channel is None:
            channel, built = self._build(account_id)
            self._channels[account_id] = channel
            self._versions[account_id] = built
        return channel

    def _build(self, account_id: str) -> tuple[Channel, int]:
        """The channel of the account as stored now, and the ``config_version`` it is from."""
        with self.engine.connect() as conn:
            account = conn.execute(
                select(SendingAccount.__table__).where(SendingAccount.id == account_id)
            ).first()
        if account is None:
            raise PermanentError("the sending account was deleted")
        row = SendingAccount(**dict(account._mapping))
        try:
            config = account_config(row, self.box)
        except ValueError as exc:
            raise PermanentError(str(exc)) from exc
        version = int(row.config_version or 0)
        if row.channel == "email":
            from huntaze.platforms.email.channel import EmailChannel

            return EmailChannel(config, self.settings), version
        if row.channel == "onlyfans_relay":
            from huntaze.platforms.onlyfans.relay import OnlyFansRelayChannel

            return OnlyFansRelayChannel(config, self.settings), version
        if row.channel == "noop":
            return NoopChannel(), version
        raise PermanentError(f"channel {row.channel!r} is not sent by workers")

    def forget(self, account_id: str) -> None:
        """Drop a cached channel (after its account changed)."""
        channel = self._channels.pop(account_id, None)
        self._versions.pop(account_id, None)
        if channel is not None:
            channel.close()

    def close(self) -> None:
        """Close every channel."""
        for account_id in list(self._channels):
            self.forget(account_id)
