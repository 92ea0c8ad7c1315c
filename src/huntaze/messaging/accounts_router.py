"""HTTP routes for sending accounts: ``/api/messaging/accounts``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from huntaze.auth.deps import Reader, Writer
from huntaze.context import AppContext, Ctx, DbSession, Now
from huntaze.kit.http import ERRORS
from huntaze.kit.redact import redact_text
from huntaze.messaging import accounts
from huntaze.messaging.account_settings import public_settings, url_policy
from huntaze.messaging.schemas import AccountIn, AccountList, AccountOut, AccountPatch
from huntaze.models.messaging import SendingAccount

router = APIRouter(prefix="/api/messaging/accounts", tags=["messaging"])


def _out(ctx: AppContext, account: SendingAccount) -> AccountOut:
    windows = ctx.outbox.limits_for(account.platform, account.send_limits)
    effective = ";".join(f"{w.amount}/{int(w.seconds)}seconds" for w in windows) or None
    return AccountOut(
        id=account.id,
        platform=account.platform,
        name=account.name,
        channel=account.channel,
        settings=public_settings(account.settings),
        has_secret=account.secret_encrypted is not None,
        send_limits=account.send_limits,
        effective_send_limits=effective,
        status=account.status,
        status_reason=redact_text(account.status_reason) if account.status_reason else None,
        breaker_state=account.breaker_state,
        breaker_failures=account.breaker_failures,
        breaker_opened_at=account.breaker_opened_at,
        created_at=account.created_at,
        updated_at=account.updated_at,
    )


@router.get("", response_model=AccountList, responses=ERRORS)
def list_accounts(ctx: Ctx, session: DbSession, principal: Reader) -> AccountList:
    """The creator's sending accounts, with limits and breaker state (never secrets)."""
    rows = accounts.list_accounts(session, principal.creator_id)
    return AccountList(items=[_out(ctx, a) for a in rows])


@router.post("", response_model=AccountOut, status_code=201, responses=ERRORS)
def add_account(
    data: AccountIn, ctx: Ctx, now: Now, session: DbSession, principal: Writer
) -> AccountOut:
    """Add a sending account (an OnlyFans relay, an SMTP sender, a manual queue).

    ``settings.relayUrl`` and ``settings.smtpUrl`` must name a host the server may reach
    (422 ``invalid_url`` / ``unsafe_url``); credentials in them are masked in every answer."""
    account = accounts.create_account(
        session,
        principal.creator_id,
        ctx.box,
        now,
        platform=data.platform,
        name=data.name,
        channel=data.channel,
        settings=data.settings,
        secret=data.secret,
        send_limits=data.send_limits,
        policy=url_policy(ctx.settings),
    )
    return _out(ctx, account)


@router.get("/{account_id}", response_model=AccountOut, responses=ERRORS)
def read_account(account_id: str, ctx: Ctx, session: DbSession, principal: Reader) -> AccountOut:
    """One sending account."""
    return _out(ctx, accounts.get_account(session, principal.creator_id, account_id))


@router.patch("/{account_id}", response_model=AccountOut, responses=ERRORS)
def change_account(
    account_id: str, data: AccountPatch, ctx: Ctx, now: Now, session: DbSession, principal: Writer
) -> AccountOut:
    """Change name, channel, settings, secret or limits; ``status: "active"`` resumes an
    account that was waiting to be reconnected (and closes its breaker). Changes take effect
    on the workers' next claim. 409 ``sending_account_exists`` for a taken name."""
    sent: dict[str, Any] = data.model_dump(include=data.model_fields_set)
    account = accounts.change_account(
        session,
        principal.creator_id,
        account_id,
        ctx.box,
        now,
        sent,
        policy=url_policy(ctx.settings),
    )
    return _out(ctx, account)


@router.delete("/{account_id}", status_code=204, response_class=Response, responses=ERRORS)
def remove_account(account_id: str, session: DbSession, principal: Writer) -> Response:
    """Delete a sending account with its queued messages."""
    accounts.delete_account(session, principal.creator_id, account_id)
    return Response(status_code=204)
