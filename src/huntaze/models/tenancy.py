"""Tenancy: creators (the tenant), users, memberships with roles, and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from huntaze.db.base import Base

ROLES = ("owner", "manager", "chatter", "analyst")


class Creator(Base):
    """A creator: the tenant. Every tenant-owned row carries its ``creator_id``.

    ``timezone`` is an IANA name; ``currency`` an ISO 4217 code used where a source gives none.
    """

    __tablename__ = "creators"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    handle: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    created_at: Mapped[datetime]


class User(Base):
    """A person who uses Huntaze: a creator, an agency manager, a chatter or an analyst."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime]


class Membership(Base):
    """A user's role on one creator: owner, manager, chatter or analyst."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "creator_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    creator_id: Mapped[str] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]


class ApiToken(Base):
    """An API token. Only the SHA-256 of the secret is stored; the secret is shown once.

    ``default_creator_id`` is the creator a request acts on when it sends no
    ``X-Huntaze-Creator`` header. A token with ``revoked_at`` set is refused.
    """

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    default_creator_id: Mapped[str | None] = mapped_column(
        ForeignKey("creators.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(255), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
