"""What ``huntaze serve --demo`` and ``huntaze demo`` do at start: the demo creator, the
loopback fakes that deliver its messages (:mod:`huntaze.demo.sending`) and the curl lines
printed to stderr::

    settings, senders = start_demo(engine, settings, host, port, console)
    try:
        ...  # serve with ``settings``
    finally:
        if senders is not None:
            senders.stop()
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from huntaze.auth.tokens import create_token_for
from huntaze.config import Settings
from huntaze.db.engine import make_sessionmaker
from huntaze.demo import DEMO_HANDLE, build_demo, database_is_empty
from huntaze.kit.clock import SystemClock

if TYPE_CHECKING:
    from huntaze.demo.sending import DemoSenders


def client_base(host: str, port: int) -> str:
    """The base URL a client on this machine reaches ``host:port`` at (a wildcard listen
    address becomes 127.0.0.1; an IPv6 literal gets brackets)."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - mapped away from, not bound
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def curl(*args: str) -> str:
    """A curl command line with every argument quoted for a POSIX shell."""
    return "curl " + " ".join(shlex.quote(a) for a in args)


#: Reads a send response from stdin and prints its ``messageId``.
MESSAGE_ID = "python3 -c " + shlex.quote(
    'import json, sys; print(json.load(sys.stdin)["messageId"])'
)


@dataclass(frozen=True, slots=True)
class SendExamples:
    """What the send examples of ``serve --demo`` need: real recipients and where
    deliveries are written."""

    onlyfans_recipient_id: str | None
    email_fan_id: str | None
    deliveries: Path


def say(console: Console, line: str) -> None:
    """Print ``line`` to ``console`` as it is: no Rich markup or highlighting, and never
    wrapped (a command wrapped at the terminal's width would not work when pasted)."""
    console.print(line, markup=False, highlight=False, soft_wrap=True)


def _say_send(console: Console, auth: str, url: str, body: dict[str, Any], status_url: str) -> None:
    """Print a send line (a JSON POST of ``body`` to ``url`` that keeps the answered
    ``messageId`` in ``$MSG``) and the status line after it (a GET of ``status_url``, which
    names ``$MSG``)."""
    send = curl(
        "-sS",
        "-H",
        auth,
        "-H",
        "Content-Type: application/json",
        "-d",
        json.dumps(body),
        url,
    )
    say(console, f'  MSG=$({send} | {MESSAGE_ID}); echo "$MSG"')
    say(console, f'  curl -H {shlex.quote(auth)} "{status_url}"')


def sample_path(filename: str = "patreon_members.csv") -> Path:
    """The absolute path of a shipped sample export, as a curl ``-F file=@…`` line needs it.

    Raises:
        FileNotFoundError: when the package's samples are not files on disk (a zipped
            install), so no line names a file that does not exist.
    """
    path = Path(str(resources.files("huntaze.demo") / "samples" / filename)).absolute()
    if not path.is_file():
        raise FileNotFoundError(f"the demo sample {path} is not a file on disk")
    return path


def print_demo(
    console: Console,
    token: str,
    host: str,
    port: int,
    sends: SendExamples | None = None,
    *,
    running: bool = True,
) -> None:
    """Print curl lines for the demo creator to ``console``, each one working when pasted
    into a POSIX shell while the API serves at ``host:port``: reads, an import of a shipped
    sample (by its absolute path) and, with ``sends``, sends and their status (a send line
    keeps the answered ``messageId`` in ``$MSG``). ``running`` False (``huntaze demo``)
    says to start ``huntaze serve`` first."""
    base = client_base(host, port)
    auth = f"Authorization: Bearer {token}"
    if running:
        say(console, "Demo creator 'demo' is ready. Try:")
    else:
        say(
            console,
            "Demo creator 'demo' is ready. Start the API with `huntaze serve` (same "
            f"HUNTAZE_DATABASE_URL; it listens on {base}), then try:",
        )
    say(console, "  " + curl("-H", auth, f"{base}/api/crm/fans?limit=5"))
    say(console, "  " + curl("-H", auth, f"{base}/api/crm/fans/top?limit=5"))
    say(console, "  " + curl("-H", auth, f"{base}/api/crm/conversations"))
    say(
        console,
        "  " + curl("-H", auth, "-F", f"file=@{sample_path()}", f"{base}/api/crm/import"),
    )
    say(console, f"The interactive API docs are at {base}/docs (open it in a browser).")
    if sends is None:
        say(
            console,
            "Sending works under `huntaze serve --demo`: it starts an OnlyFans relay and an "
            "SMTP server on loopback for the demo creator and shows what they deliver.",
        )
        return
    say(
        console,
        "Send messages: a relay and an SMTP server on loopback, run by this process, deliver "
        f"them; each delivery is printed here and appended to {sends.deliveries}. "
        "Each send line keeps the messageId in $MSG; the line after it reads its status:",
    )
    if sends.onlyfans_recipient_id is not None:
        _say_send(
            console,
            auth,
            f"{base}/api/onlyfans/messages/send",
            {"recipientId": sends.onlyfans_recipient_id, "content": "Hi from the Huntaze demo"},
            f"{base}/api/onlyfans/messages/status?messageId=$MSG",
        )
    if sends.email_fan_id is not None:
        _say_send(
            console,
            auth,
            f"{base}/api/messages/send",
            {
                "platform": "email",
                "fanId": sends.email_fan_id,
                "subject": "Hello from the demo",
                "content": "Hi, this email went to the demo SMTP server.",
            },
            f"{base}/api/messages/$MSG",
        )


def start_demo(
    engine: Any, settings: Settings, host: str, port: int, console: Console
) -> tuple[Settings, DemoSenders | None]:
    """``serve --demo``'s start: fill an empty database with the demo creator (or issue a new
    owner token for an existing one), start the loopback relay and SMTP server, point the
    demo creator's sending accounts at them and print the curl lines to ``console``.

    Returns the settings to serve with (``allowed_private_targets`` extended by exactly the
    two fakes) and the running :class:`~huntaze.demo.sending.DemoSenders`, or the settings
    unchanged and ``None`` when the database has data but no demo creator.
    """
    # The fakes (aiosmtpd, the relay) load only here: ``huntaze demo`` prints without them.
    from huntaze.config import box_from_settings
    from huntaze.demo.sending import (
        DeliveryLog,
        DemoSenders,
        deliveries_path,
        demo_recipients,
        ensure_demo_accounts,
        find_demo_creator,
        merge_targets,
    )

    sessions = make_sessionmaker(engine)
    clock = SystemClock()
    if database_is_empty(sessions):
        token = build_demo(engine, sessions, clock).token.secret
    else:
        with sessions() as session:
            if find_demo_creator(session) is None:
                console.print(
                    "the database already has data and no creator 'demo': --demo adds nothing "
                    "(`huntaze demo` adds the demo creator)"
                )
                return settings, None
            token = create_token_for(session, DEMO_HANDLE, clock.now(), role="owner").secret
            session.commit()
        console.print("the database already has the demo creator; a new owner token follows")
    deliveries = DeliveryLog(
        deliveries_path(settings.database_url), echo=lambda line: say(console, line)
    )
    senders = DemoSenders(deliveries).start()
    allowed = merge_targets(settings.allowed_private_targets, senders.allowed_targets)
    settings = settings.model_copy(update={"allowed_private_targets": allowed})
    try:
        with sessions() as session:
            creator_id = find_demo_creator(session) or ""
            ensure_demo_accounts(
                session, creator_id, box_from_settings(settings), clock.now(), senders, settings
            )
            recipients = demo_recipients(session, creator_id)
            session.commit()
    except BaseException:
        senders.stop()
        raise
    examples = SendExamples(
        recipients.onlyfans_recipient_id, recipients.email_fan_id, deliveries.path
    )
    print_demo(console, token, host, port, examples)
    return settings, senders
