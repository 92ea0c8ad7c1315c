"""Messaging models: sending accounts, the outbox, send attempts, idempotency keys, bulks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import text

from huntaze.db.base import Base, JSONType


class OutboxStatus(StrEnum):
    """An outbox message's status: the seed's ``queued``, ``processing``, ``sent``,
    ``failed``, plus ``cancelled`` (a bulk or campaign cancelled before its messages were
    claimed) and ``held`` (a paused campaign's message, never claimed until it resumes)."""

    QUEUED = "queued"
    PROCESSING = "processing"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    HELD = "held"


class AccountStatus(StrEnum):
    """A sending account's status: ``active``, or ``reconnect_required`` after the platform
    refused its credentials (it sends nothing until a PATCH sets it ``active``)."""

    ACTIVE = "active"
    RECONNECT_REQUIRED = "reconnect_required"


class BreakerState(StrEnum):
    """A sending account's circuit breaker (Nygard, *Release It!*, "Circuit Breaker"):
    ``closed`` sends, ``open`` sends nothing until its cool-down ends, ``half_open`` lets one
    probe through."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


#: Priority names -> the sort value stored (lower goes first).
PRIORITIES = {"high": 0, "medium": 1, "low": 2}
PRIORITY_NAMES = {v: k for k, v in PRIORITIES.items()}


class SendingAccount(Base):
    """An account messages are sent from: a creator's OnlyFans (through a relay), an email
    sender, or a manual queue worked by chatters.

    ``channel`` is ``onlyfans_relay``, ``email`` or ``manual``. ``settings`` holds non-secret
    settings (``relayUrl``, ``smtpUrl``, ``from``); ``secret_encrypted`` the Fernet token of the
    secret (never returned by the API). ``send_limits`` overrides the platform's default
    (``limits`` notation). The circuit breaker's state lives here so every worker shares it:
    ``breaker_state`` is ``closed``, ``open`` or ``half_open``. ``status`` is ``active`` or
    ``reconnect_required``. ``last_served_at`` drives the round robin between accounts.
    ``config_version`` goes up with every change of what a channel is built from (settings,
    secret, channel, limits, status): workers key their cached channels by it, so a change
    takes effect on the next claim in every worker.
    """

    __tablename__ = "sending_accounts"
    __table_args__ = (UniqueConstraint("creator_id", "platform", "name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    creator_id: Mapped[str] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(32))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    send_limits: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(24), default="active")
    status_reason: Mapped[str | None] = mapped_column(Text)
    breaker_state: Mapped[str] = mapped_column(String(16), default="closed")
    breaker_failures: Mapped[int] = mapped_column(Integer, default=0)
    breaker_opened_at: Mapped[datetime | None]
    last_served_at: Mapped[datetime | None]
    config_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OutboxMessage(Base):
    """One outbound message: inserted in the same transaction as its cause, sent by a worker.

    ``priority`` is 0 (high), 1 (medium) or 2 (low). A worker claims a row by setting
    ``status='processing'`` and ``claimed_until`` (the lease); a crashed worker's rows come back
    when the lease runs out. ``not_before`` delays a retry. ``idempotency_key`` is the same for
    every attempt, so duplicates after a crash are recognisable downstream.

    Written a million rows at a time by one ``INSERT … SELECT`` (a bulk), so what each row
    costs to insert is kept small (migration 0003):

    - ``creator_id`` and ``fan_id`` carry no foreign key. PostgreSQL checks a foreign key with
      one trigger query per inserted row (and the fan check locks every fan row it reads):
      for a 1,000,000-row bulk the two took 8 to 10 s of the 15 s budget. ``creator_id`` is
      implied by ``account_id`` (an account belongs to one creator, and deleting the creator
      deletes its accounts, whose foreign key deletes their outbox rows); ``fan_id`` is
      nulled by :func:`huntaze.fans.service.delete_fan`, as ``ON DELETE SET NULL`` did. Writers
      take both from rows they just read for the creator, never from input.
    - ``account_id`` carries no foreign key either (migration 0004: its check cost 3 to 6 s
      per million bulk rows on PostgreSQL). An ``AFTER DELETE`` trigger on
      ``sending_accounts`` deletes the account's outbox rows and send attempts instead, for
      :func:`huntaze.messaging.accounts.delete_account` and for a creator's cascade alike.
    - Only two indexes cover the row states the workers look up: ``ix_outbox_queued`` (the
      claim order of queued rows) and ``ix_outbox_processing`` (leases, to find expired ones),
      both partial, so a bulk of queued rows never touches the second.
    - ``ix_outbox_fan_direct``: a fan's rows that no bulk queued, for the inbox threads
      (migration 0007); bulk rows never enter it.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_queued",
            "account_id",
            "priority",
            "created_at",
            "id",
            postgresql_where=text("status = 'queued'"),
            sqlite_where=text("status = 'queued'"),
        ),
        Index(
            "ix_outbox_processing",
            "account_id",
            "claimed_until",
            postgresql_where=text("status = 'processing'"),
            sqlite_where=text("status = 'processing'"),
        ),
        Index("ix_outbox_creator_created", "creator_id", "created_at"),
        Index("ix_outbox_bulk", "bulk_id"),
        Index(
            "ix_outbox_campaign",
            "campaign_id",
            "status",
            postgresql_where=text("campaign_id IS NOT NULL"),
            sqlite_where=text("campaign_id IS NOT NULL"),
        ),
        Index(
            "ix_outbox_fan_direct",
            "fan_id",
            "created_at",
            postgresql_where=text("bulk_id IS NULL"),
            sqlite_where=text("bulk_id IS NULL"),
        ),
        UniqueConstraint("account_id", "idempotency_key"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    creator_id: Mapped[str] = mapped_column(String(32))  # no foreign key: see above
    account_id: Mapped[str] = mapped_column(String(32))  # no foreign key: see above
    platform: Mapped[str] = mapped_column(String(32))
    fan_id: Mapped[str | None] = mapped_column(String(32))  # no foreign key: see above
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text)
    media: Mapped[list[str]] = mapped_column(default=list)
    price_cents: Mapped[int | None] = mapped_column(BigInteger)
    priority: Mapped[int] = mapped_column(SmallInteger, default=1)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    not_before: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None]
    external_id: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(128))
    conversation_id: Mapped[str | None] = mapped_column(String(32))
    bulk_id: Mapped[str | None] = mapped_column(String(32))
    campaign_id: Mapped[str | None] = mapped_column(String(32))
    variant_id: Mapped[str | None] = mapped_column(String(32))
    automation_id: Mapped[str | None] = mapped_column(String(32))
    estimated_delivery: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SendAttempt(Base):
    """One platform call started for an account: the send-rate limit counts these.

    Counting attempts, not successes, keeps the guarantee through crashes: a worker killed
    after the platform accepted a message still counted that call.
    """

    __tablename__ = "send_attempts"
    __table_args__ = (Index("ix_send_attempts_account_started", "account_id", "started_at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    #: No foreign key: one was checked per claimed message (migration 0004); the trigger
    #: on ``sending_accounts`` deletes an account's attempts with it.
    account_id: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime]


class IdempotencyKey(Base):
    """A POST's ``Idempotency-Key``: the first response is answered again for the same body.

    ``request_hash`` is the SHA-256 of method, path and body; ``status`` is ``in_flight`` or
    ``done``. Kept at least 24 hours (``expires_at``).
    """

    __tablename__ = "idempotency_keys"

    creator_id: Mapped[str] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class BulkSend(Base):
    """One ``POST /api/messages/bulk``: its template, counts and the fans it skipped."""

    __tablename__ = "bulk_sends"
    __table_args__ = (Index("ix_bulk_sends_creator", "creator_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    creator_id: Mapped[str] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    account_id: Mapped[str] = mapped_column(ForeignKey("sending_accounts.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(32))
    template: Mapped[str] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(SmallInteger)
    queued: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
