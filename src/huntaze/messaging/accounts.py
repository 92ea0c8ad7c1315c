"""Sending accounts: the creator's accounts messages go out from, with encrypted secrets.

A creator with no account for a platform gets one made from the environment's defaults
(``HUNTAZE_ONLYFANS_RELAY_URL`` / ``…_SECRET``, ``HUNTAZE_SMTP_URL`` / ``HUNTAZE_EMAIL_FROM``)
the first time a message is queued for that platform.

The URLs an account names (``settings.relayUrl``, ``settings.smtpUrl``) are user-given hosts
the server will connect to, so they are checked when set (create and PATCH) as well as at
connect time (:mod:`huntaze.kit.netguard`), and shown with their credentials masked
(:func:`~huntaze.messaging.account_settings.public_settings`); those checks live in
:mod:`huntaze.messaging.account_settings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from huntaze.config import Settings
from huntaze.db.session import flush_or_raise, get_owned
from huntaze.kit.crypto import SecretBox
from huntaze.kit.errors import ApiError
from huntaze.kit.ids import new_id
from huntaze.kit.netguard import TargetPolicy
from huntaze.messaging.account_settings import keep_masked, validate_settings
from huntaze.messaging.errors import SendingAccountNotFound
from huntaze.models.messaging import AccountStatus, BreakerState, SendingAccount
from huntaze.outbox.limits import parse_limits

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


#: A send limit allows at most this many messages per window …
MAX_SEND_AMOUNT = 1_000_000
#: … over a window of at most this many seconds (366 days; ``1/year`` is 360 days in the
#: ``limits`` notation). Beyond either, the delivery estimates would overflow a datetime.
MAX_SEND_WINDOW_SECONDS = 366 * 86_400


def validate_limits(text: str | None) -> str | None:
    """Return ``text`` if it is a valid limit in the ``limits`` notation, each window of at
    most :data:`MAX_SEND_AMOUNT` messages over at most :data:`MAX_SEND_WINDOW_SECONDS`.

    Raises:
        ApiError: 422 ``invalid_send_limits`` naming the field.
    """
    if text is None or text == "":
        return None
    try:
        windows = parse_limits(text)
    except ValueError as exc:
        raise ApiError(422, "invalid_send_limits", str(exc), [{"field": "sendLimits"}]) from exc
    if any(w.amount > MAX_SEND_AMOUNT or w.seconds > MAX_SEND_WINDOW_SECONDS for w in windows):
        raise ApiError(
            422,
            "invalid_send_limits",
            f"a send limit allows at most {MAX_SEND_AMOUNT:,} messages per window, over a "
            "window of at most 366 days (for example 10/minute)",
            [{"field": "sendLimits"}],
        )
    return text


def list_accounts(session: Session, creator_id: str) -> list[SendingAccount]:
    """The creator's sending accounts, by platform then age."""
    return list(
        session.scalars(
            select(SendingAccount)
            .where(SendingAccount.creator_id == creator_id)
            .order_by(SendingAccount.platform, SendingAccount.created_at)
        )
    )


def get_account(session: Session, creator_id: str, account_id: str) -> SendingAccount:
    """Return the creator's sending account.

    Raises:
        ApiError: 404 ``sending_account_not_found`` (also for another creator's, and for an
            id no column could hold: a NUL character or a lone surrogate, which PostgreSQL
            would refuse to compare).
    """
    return get_owned(session, SendingAccount, creator_id, account_id, SendingAccountNotFound)


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
    policy: TargetPolicy | None = None,
) -> SendingAccount:
    """Create a sending account; ``secret`` is stored encrypted.

    Args:
        policy: the address guard's policy for the URLs in ``settings``
            (:func:`~huntaze.messaging.account_settings.url_policy`; the API always passes
            it); ``None`` checks their shape only (trusted callers), the channel's
            connect-time check still applies.

    Raises:
        ApiError: 409 ``sending_account_exists`` for a taken (platform, name); 422 for an
            invalid channel or limit; 422 ``invalid_url`` / ``unsafe_url`` for a refused
            ``settings.relayUrl`` or ``settings.smtpUrl``
            (:func:`~huntaze.messaging.account_settings.validate_settings`).
    """
    chosen = channel_for(platform, channel)
    limits = validate_limits(send_limits)
    values = validate_settings(settings or {}, policy)
    account = SendingAccount(
        id=new_id("acc"),
        creator_id=creator_id,
        platform=platform,
        name=name,
        channel=chosen,
        settings=values,
        secret_encrypted=box.encrypt(secret) if secret else None,
        send_limits=limits,
        status=AccountStatus.ACTIVE,
        status_reason=None,
        breaker_state=BreakerState.CLOSED,
        breaker_failures=0,
        breaker_opened_at=None,
        last_served_at=None,
        config_version=0,
        created_at=now,
        updated_at=now,
    )
    session.add(account)
    flush_or_raise(session, _name_taken(name, platform))
    return account


#: The fields a PATCH may change. All but ``name`` are what a channel is built from.
PATCHABLE = ("name", "channel", "settings", "secret", "send_limits", "status")


def change_account(
    session: Session,
    creator_id: str,
    account_id: str,
    box: SecretBox,
    now: datetime,
    changes: Mapping[str, Any],
    *,
    policy: TargetPolicy | None = None,
) -> SendingAccount:
    """Apply a PATCH to the creator's sending account; flushes, never commits.

    Args:
        changes: the fields the caller sent, by their Python names (:data:`PATCHABLE`):
            ``name`` (``None`` keeps it), ``channel`` (``None`` keeps it), ``settings`` (the
            whole new dict; ``None`` keeps them; a value sent back masked as
            :func:`~huntaze.messaging.account_settings.public_settings` shows it keeps the
            stored one), ``secret`` (``None`` or ``""`` removes it), ``send_limits``
            (``None`` or ``""``: the platform default),
            ``status`` (``"active"``: resume a paused account and close its breaker).
        policy: the address guard's policy for the URLs in ``settings``
            (:func:`~huntaze.messaging.account_settings.url_policy`; the API always passes
            it); ``None`` checks their shape only (trusted callers), the channel's
            connect-time check still applies.

    Every check runs before anything changes, so an error leaves the account as it was.
    ``config_version`` goes up by one when anything a channel is built from changes
    (channel, settings, secret, limits, status or breaker), so workers rebuild their cached
    channel on their next claim; a sent secret always counts as a change (it is not
    compared). ``updated_at`` becomes ``now`` when anything changes, the name included.

    Raises:
        ApiError: 404 ``sending_account_not_found`` (also for another creator's); 409
            ``sending_account_exists`` when the new name is taken on the platform; 422
            ``invalid_channel``, ``invalid_send_limits``, ``invalid_url`` or ``unsafe_url``.
        ValueError: ``changes`` names a field outside :data:`PATCHABLE` (a programming error).
    """
    unknown = set(changes) - set(PATCHABLE)
    if unknown:
        raise ValueError(f"unknown account fields: {sorted(unknown)}")
    account = get_account(session, creator_id, account_id)
    name = changes.get("name") or account.name
    if name != account.name and session.scalar(
        select(SendingAccount.id).where(
            SendingAccount.creator_id == creator_id,
            SendingAccount.platform == account.platform,
            SendingAccount.name == name,
            SendingAccount.id != account.id,
        )
    ):
        raise _name_taken(name, account.platform)
    channel = (
        channel_for(account.platform, changes["channel"])
        if changes.get("channel")
        else account.channel
    )
    settings = dict(account.settings or {})
    if changes.get("settings") is not None:
        settings = validate_settings(keep_masked(changes["settings"], settings), policy)
    limits = (
        validate_limits(changes["send_limits"]) if "send_limits" in changes else account.send_limits
    )

    before = _channel_state(account)
    account.name = name
    account.channel = channel
    account.settings = settings
    account.send_limits = limits
    secret_sent = "secret" in changes
    if secret_sent:
        secret = changes["secret"]
        account.secret_encrypted = box.encrypt(secret) if secret else None
    if changes.get("status") == "active":
        account.status = AccountStatus.ACTIVE
        account.status_reason = None
        account.breaker_state = BreakerState.CLOSED
        account.breaker_failures = 0
        account.breaker_opened_at = None
    config_changed = secret_sent or _channel_state(account)[1:] != before[1:]
    if config_changed:
        account.config_version = (account.config_version or 0) + 1
    if config_changed or name != before[0]:
        account.updated_at = now
    # a concurrent request may have taken the name in between
    flush_or_raise(session, _name_taken(name, account.platform))
    return account


def _channel_state(account: SendingAccount) -> tuple[Any, ...]:
    """The name, then what a channel is built from (the secret aside), for comparisons."""
    return (
        account.name,
        account.channel,
        dict(account.settings or {}),
        account.send_limits,
        account.status,
        account.status_reason,
        account.breaker_state,
        account.breaker_failures,
        account.breaker_opened_at,
    )


def _name_taken(name: str, platform: str) -> ApiError:
    return ApiError(
        409,
        "sending_account_exists",
        f"An account named {name!r} already exists for {platform}",
        [{"field": "name"}],
    )


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
    """Return the creator's sending account for ``platform``, creating the ``default``
    account from the environment when there is none.

    The oldest **active** account is chosen; only when none is active does the oldest
    account (paused, ``reconnect_required``) get the message, which then waits for the
    account to be reconnected.

    Raises:
        ApiError: 409 ``no_sending_account`` when there is no account and no default.
    """
    account = session.scalar(
        select(SendingAccount)
        .where(SendingAccount.creator_id == creator_id, SendingAccount.platform == platform)
        .order_by(
            case((SendingAccount.status == AccountStatus.ACTIVE, 0), else_=1),
            SendingAccount.created_at,
            SendingAccount.id,
        )
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
