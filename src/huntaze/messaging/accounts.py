"""Sending accounts: the creator's accounts messages go out from, with encrypted secrets.

A creator with no account for a platform gets one made from the environment's defaults
(``HUNTAZE_ONLYFANS_RELAY_URL`` / ``…_SECRET``, ``HUNTAZE_SMTP_URL`` / ``HUNTAZE_EMAIL_FROM``)
the first time a message is queued for that platform.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from huntaze.config import Settings
from huntaze.kit.crypto import SecretBox
from huntaze.kit.errors import ApiError, not_found
from huntaze.kit.ids import new_id
from huntaze.messaging.limits import parse_limits
from huntaze.models.messaging import SendingAccount
from huntaze.platforms.base import AccountConfig

#: platform -> the channel its accounts use unless told otherwise.
DEFAULT_CHANNELS = {"onlyfans": "onlyfans_relay", "email": "email"}
CHANNELS = ("onlyfans_relay", "email", "manual", "noop")


def channel_for(platform: str, channel: str | None) -> str:
    """Return the channel for a new account on ``platform``.

    Raises:
        ApiError: 422 ``invalid_channel`` when the platform has no channel and none is named,
            or the named one is unknown.
    """
    chosen = channel or DEFAULT_CHANNELS.get(platform)
    if chosen not in CHANNELS:
        raise ApiError(
            422,
            "invalid_channel",
            f"channel must be one of {', '.join(CHANNELS)} for platform {platform!r}",
            [{"field": "channel"}],
        )
    return chosen


def validate_limits(text: str | None) -> str | None:
    """Return ``text`` if it is a valid limit in the ``limits`` notation.

    Raises:
        ApiError: 422 ``invalid_send_limits`` naming the field.
    """
    if text is None or text == "":
        return None
    try:
        parse_limits(text)
    except ValueError as exc:
        raise ApiError(422, "invalid_send_limits", str(exc), [{"field": "sendLimits"}]) from exc
    return text


def get_account(session: Session, creator_id: str, account_id: str) -> SendingAccount:
    """Return the creator's sending account.

    Raises:
        ApiError: 404 ``sending_account_not_found`` (also for another creator's).
    """
    account = session.scalar(
        select(SendingAccount).where(
            SendingAccount.id == account_id, SendingAccount.creator_id == creator_id
        )
    )
    if account is None:
        raise not_found("sending_account")
    return account


def delete_account(session: Session, creator_id: str, account_id: str) -> None:
    """Delete the creator's sending account; the caller commits. The database's trigger on
    ``sending_accounts`` (migration 0004) deletes the account's outbox rows and send
    attempts in the same transaction.

    Raises:
        ApiError: 404 ``sending_account_not_found`` (also for another creator's).
    """
    session.delete(get_account(session, creator_id, account_id))


def create_account(
    session: Session,
    creator_id: str,
    box: SecretBox,
    now: datetime,
    *,
    platform: str,
    name: str,
    channel: str | None = None,
    settings: dict[str, Any] | None = None,
    secret: str | None = None,
    send_limits: str | None = None,
) -> SendingAccount:
    """Create a sending account; ``secret`` is stored encrypted.

    Raises:
        ApiError: 409 ``sending_account_exists`` for a taken (platform, name); 422 for an
            invalid channel or limit.
    """
    account = SendingAccount(
        id=new_id("acc"),
        creator_id=creator_id,
        platform=platform,
        name=name,
        channel=channel_for(platform, channel),
        settings=settings or {},
        secret_encrypted=box.encrypt(secret) if secret else None,
        send_limits=validate_limits(send_limits),
        status="active",
        status_reason=None,
        breaker_state="closed",
        breaker_failures=0,
        breaker_opened_at=None,
        last_served_at=None,
        created_at=now,
        updated_at=now,
    )
    session.add(account)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise ApiError(
            409,
            "sending_account_exists",
            f"An account named {name!r} already exists for {platform}",
            [{"field": "name"}],
        ) from exc
    return account


def _env_default_available(platform: str, settings: Settings) -> bool:
    if platform == "onlyfans":
        return bool(
            settings.onlyfans_relay_url and settings.onlyfans_relay_secret.get_secret_value()
        )
    if platform == "email":
        return bool(settings.smtp_url.get_secret_value() and settings.email_from)
    return False


def resolve_account(
    session: Session,
    creator_id: str,
    platform: str,
    settings: Settings,
    box: SecretBox,
    now: datetime,
) -> SendingAccount:
    """Return the creator's sending account for ``platform`` (the oldest active one), creating
    the ``default`` account from the environment when there is none.

    Raises:
        ApiError: 409 ``no_sending_account`` when there is no account and no default.
    """
    account = session.scalar(
        select(SendingAccount)
        .where(SendingAccount.creator_id == creator_id, SendingAccount.platform == platform)
        .order_by(SendingAccount.created_at, SendingAccount.id)
        .limit(1)
    )
    if account is not None:
        return account
    if not _env_default_available(platform, settings):
        raise ApiError(
            409,
            "no_sending_account",
            f"No sending account for {platform}: add one at /api/messaging/accounts",
            [{"field": "platform", "value": platform}],
        )
    return create_account(session, creator_id, box, now, platform=platform, name="default")


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
