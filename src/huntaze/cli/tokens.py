"""``huntaze token create | list | revoke``: API tokens, run by whoever runs the server."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from huntaze.cli.common import fail, handled, note, open_database, print_table

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from huntaze.models.tenancy import Creator

ROLES = ("owner", "manager", "chatter", "analyst")
ROLE_HELP = "owner, manager, chatter or analyst"
#: the longest token name (``api_tokens.name`` is ``VARCHAR(255)``)
MAX_NAME = 255


def _role(value: str | None) -> str | None:
    if value is not None and value.strip().lower() not in ROLES:
        raise typer.BadParameter(f"{value!r} is not a role: use {ROLE_HELP}")
    return value.strip().lower() if value is not None else None


def _a(role: str) -> str:
    return f"an {role}" if role[:1] in "aeiou" else f"a {role}"


def known_creators(session: Session) -> str:
    """``a, b, c`` (up to 20 handles, then how many more), or a note that there are none."""
    from huntaze.auth.tokens import creator_handles

    handles, total = creator_handles(session, 20)
    if not total:
        return "the database has no creator yet"
    more = f" and {total - len(handles)} more" if total > len(handles) else ""
    return "known creators: " + ", ".join(handles) + more


def resolve_creator(
    session: Session, handle: str | None, shown: str, *, create: bool
) -> tuple[Creator, bool]:
    """The creator ``handle`` names (the only one when ``handle`` is None), and whether this
    call created it (only with ``create``).

    Raises:
        CliError: an invalid or unknown handle (listing the known ones), no handle while the
            database has no creator or several, or ``create`` without a handle.
    """
    from sqlalchemy import select

    from huntaze.auth.tokens import find_creator, get_or_create_creator, validate_handle
    from huntaze.kit.clock import SystemClock
    from huntaze.models.tenancy import Creator

    if handle is None:
        if create:
            fail("--create-creator needs --creator HANDLE")
        creators = list(session.scalars(select(Creator).order_by(Creator.handle).limit(2)))
        if len(creators) == 1:
            return creators[0], False
        if not creators:
            fail(
                f"the database {shown} has no creator yet: name one with --creator HANDLE "
                "--create-creator"
            )
        fail(f"name the creator with --creator HANDLE ({known_creators(session)}; in {shown})")
    try:
        handle = validate_handle(handle)
    except ValueError as exc:
        fail(f"--creator {handle!r}: {exc}")
    creator = find_creator(session, handle)
    if creator is not None:
        return creator, False
    if not create:
        fail(
            f"no creator {handle!r} in {shown} ({known_creators(session)}). "
            f"Add --create-creator to create {handle!r}"
        )
    return get_or_create_creator(session, handle, SystemClock().now()), True


def token_create(
    creator: Annotated[
        str, typer.Option(metavar="HANDLE", help="the creator the token acts on by default")
    ],
    role: Annotated[
        str | None,
        typer.Option(
            metavar="ROLE",
            help=f"{ROLE_HELP}; default: the user's current role on the creator, else owner",
            callback=_role,
        ),
    ] = None,
    email: Annotated[
        str | None,
        typer.Option(
            metavar="EMAIL", help="the user (created if new); default <role>@<handle>.local"
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(metavar="TEXT", help="a label for the token")] = None,
    change_role: Annotated[
        bool,
        typer.Option(
            "--change-role",
            help="give an existing member the --role asked for; it changes for all their tokens",
        ),
    ] = False,
    create_creator: Annotated[
        bool, typer.Option("--create-creator", help="create the creator if it does not exist")
    ] = False,
) -> None:
    """Create a token for a user on a creator.

    The token is printed once, as the last line of stdout; only its hash is stored.

    A different --role for a user who already has a role on the creator is refused (exit 2)
    unless --change-role is given, since a role is the user's and changes for all their tokens.
    """
    with handled(), open_database(creates=False) as db:
        from huntaze.auth.tokens import create_token_for
        from huntaze.db.engine import make_sessionmaker
        from huntaze.kit.clock import SystemClock
        from huntaze.kit.errors import ApiError
        from huntaze.kit.validation import check_email, check_text

        if email is not None:
            try:
                email = check_email(email)
            except ValueError as exc:
                fail(f"--email {email!r}: {exc}")
        if name is not None:
            try:
                name = check_text(name)
            except ValueError as exc:
                fail(f"--name: {exc}")
            if len(name) > MAX_NAME:
                fail(f"--name: at most {MAX_NAME} characters")
        with make_sessionmaker(db.engine)() as session:
            found, created = resolve_creator(session, creator, db.shown, create=create_creator)
            try:
                issued = create_token_for(
                    session,
                    found.handle,
                    SystemClock().now(),
                    role=role,
                    email=email,
                    change_role=change_role,
                    name=name,
                )
            except ApiError as exc:
                if exc.code == "role_change_required":
                    detail = exc.details[0]
                    fail(
                        f"{email or f'{role}@{found.handle}.local'} is "
                        f"{_a(detail['currentRole'])} on {found.handle}; making them "
                        f"{_a(detail['requestedRole'])} would change the role of all their "
                        "tokens. Add --change-role to do that, or leave out --role to keep it"
                    )
                raise
            session.commit()
        if created:
            note(f"created creator {found.handle!r} ({found.id})")
        if issued.previous_role is not None:
            note(
                f"changed {issued.email}'s role on {found.handle} from {issued.previous_role} "
                f"to {issued.role}: all their tokens now act as {issued.role}"
            )
        note(
            f"token {issued.id} for {issued.email} ({issued.role} on {found.handle}) in "
            f"{db.shown}; it is shown once, store it now:"
        )
    typer.echo(issued.secret)


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%SZ") if value is not None else "-"


def token_list(
    creator: Annotated[
        str | None,
        typer.Option(
            metavar="HANDLE",
            help="only the tokens that can act on this creator (its members' tokens)",
        ),
    ] = None,
    active: Annotated[bool, typer.Option("--active", help="leave out revoked tokens")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per token")] = False,
) -> None:
    """List tokens, newest first.

    Shows id, name, prefix, user, role, default creator and the created, last-used and
    revoked times (UTC); never a secret or its hash."""
    with handled(), open_database(creates=False) as db:
        from huntaze.auth.token_list import list_tokens
        from huntaze.db.engine import make_sessionmaker

        with make_sessionmaker(db.engine)() as session:
            creator_id = None
            if creator is not None:
                creator_id = resolve_creator(session, creator, db.shown, create=False)[0].id
            tokens, _ = list_tokens(
                session, creator_id, limit=1_000_000, include_revoked=not active
            )
    if as_json:
        for t in tokens:
            typer.echo(
                json.dumps(
                    {
                        "id": t.id,
                        "name": t.name,
                        "prefix": t.prefix,
                        "userEmail": t.user_email,
                        "role": t.role,
                        "creator": t.creator_handle,
                        "createdAt": t.created_at.isoformat(),
                        "lastUsedAt": t.last_used_at.isoformat() if t.last_used_at else None,
                        "revokedAt": t.revoked_at.isoformat() if t.revoked_at else None,
                    }
                )
            )
        return
    note(f"{len(tokens)} token{'s' if len(tokens) != 1 else ''} in {db.shown}")
    print_table(
        ["ID", "NAME", "PREFIX", "USER", "ROLE", "CREATOR", "CREATED", "LAST USED", "REVOKED"],
        [
            [
                t.id,
                t.name or "-",
                t.prefix + "…",
                t.user_email,
                t.role or "-",
                t.creator_handle or "-",
                _when(t.created_at),
                _when(t.last_used_at),
                _when(t.revoked_at),
            ]
            for t in tokens
        ],
    )


def token_revoke(
    token_id: Annotated[str, typer.Argument(metavar="TOKEN_ID", help="as `token list` shows it")],
) -> None:
    """Revoke a token: from now on it answers 401, on every creator it acted on."""
    with handled(), open_database(creates=False) as db:
        from huntaze.auth.token_list import get_token_info
        from huntaze.auth.tokens import revoke_token
        from huntaze.db.engine import make_sessionmaker
        from huntaze.kit.clock import SystemClock

        with make_sessionmaker(db.engine)() as session:
            before = get_token_info(session, None, token_id.strip())
            if before is None:
                fail(f"no token {token_id!r} in {db.shown} (`huntaze token list` shows them)")
            revoke_token(session, before.id, SystemClock().now())
            session.commit()
        if before.revoked_at is not None:
            typer.echo(f"{before.id} was already revoked at {_when(before.revoked_at)}")
            return
        typer.echo(f"revoked {before.id} ({before.name or 'no name'}, {before.user_email})")
