"""Masking credentials in URLs and free text before they reach a response or a log line.

A URL can carry a credential in two places: the userinfo (``scheme://user:password@host``,
RFC 3986 §3.2.1, which deprecates putting a password there but every client still accepts
it) and the query or fragment (``?token=…``, ``#access_token=…``). :func:`redact_url` keeps
the URL readable (scheme, user, host, path, parameter names) and replaces those values with
:data:`MASK`; :func:`redact_text` does the same to every URL inside a text, and to
``name=value`` pairs and ``Bearer``/``Basic`` credentials outside URLs.

This module imports nothing of the application and never raises on odd input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote_plus

MASK = "***"

#: Parameter names are secret-looking when, lower-cased and stripped of everything but
#: letters and digits, they contain one of these…
_SECRET_PARTS = (
    "token",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "credential",
    "signature",
    "apikey",
    "accesskey",
    "privatekey",
    "authorization",
    "cookie",
    "session",
)
#: …or are one of these, or end with one of them (``x_api_key``, ``hmac_sig``, ``basicauth``).
_SECRET_WORDS = ("key", "pass", "pwd", "pw", "sig", "auth", "jwt", "bearer", "sas", "otp")
#: Names that end like a secret but are not one.
_NOT_SECRET = frozenset({"idempotencykey", "publickey", "sortkey", "cachekey"})

_URL = re.compile(r"""\b[A-Za-z][A-Za-z0-9+.-]*://[^\s<>"'`\x00-\x1f\x7f]+""")
_PAIR = re.compile(r"""(?P<name>[A-Za-z0-9_.\-\[\]]+)(?P<sep>\s*[=:]\s*)(?P<value>[^\s&;,"'<>]+)""")
_QUOTED_PAIR = re.compile(
    r"""(?P<q>["'])(?P<name>[A-Za-z0-9_.\-]+)(?P=q)(?P<sep>\s*:\s*)(?P<vq>["'])"""
    r"""(?P<value>(?:\\.|(?!(?P=vq)).)*)(?P=vq)"""
)
_SCHEME_CREDENTIAL = re.compile(r"""(?i)\b(?P<kind>bearer|basic)(?P<sp>\s+)(?P<value>[^\s"',;]+)""")


def is_secret_name(name: str) -> bool:
    """True when a parameter or field name looks like it holds a credential.

    The name is compared case-insensitively with punctuation removed, so ``access_token``,
    ``X-Api-Key``, ``clientSecret``, ``smtp_password`` and ``sig`` all match; ``key`` matches
    as a whole word or suffix (``apikey``) but ``idempotency_key`` does not.
    """
    flat = re.sub(r"[^a-z0-9]", "", name.lower())
    if not flat or flat in _NOT_SECRET:
        return False
    if any(part in flat for part in _SECRET_PARTS):
        return True
    return any(flat == word or flat.endswith(word) for word in _SECRET_WORDS)


def _redact_pairs(text: str, separators: str) -> str:
    """Mask the value of each ``name=value`` pair of a query or fragment."""
    out: list[str] = []
    for piece in re.split(f"([{re.escape(separators)}])", text):
        if piece in separators and len(piece) == 1:
            out.append(piece)
            continue
        name, eq, value = piece.partition("=")
        if eq and value and is_secret_name(unquote_plus(name)):
            out.append(f"{name}={MASK}")
        else:
            out.append(piece)
    return "".join(out)


def redact_url(url: str) -> str:
    """``url`` with its userinfo password and secret-looking query and fragment values masked.

    ``https://bot:hunter2@relay.example/send?token=abc&team=1`` becomes
    ``https://bot:***@relay.example/send?token=***&team=1``. The user name is kept (it tells
    which login is configured); a password, even an empty one, is replaced by :data:`MASK`.
    Everything else is kept byte for byte, so the result stays a usable reference. Text that
    is not a ``scheme://`` URL is returned with only its ``name=value`` secrets masked.
    """
    scheme_end = url.find("://")
    if scheme_end <= 0:
        return _redact_pairs(url, "&;")
    start = scheme_end + 3
    rest = url[start:]
    # RFC 3986 §3.2: the authority ends at the first "/", "?" or "#".
    cut = len(rest)
    for stop in "/?#":
        found = rest.find(stop)
        if found != -1:
            cut = min(cut, found)
    authority, tail = rest[:cut], rest[cut:]
    at = authority.rfind("@")
    if at != -1:
        userinfo, hostport = authority[:at], authority[at + 1 :]
        user, colon, _password = userinfo.partition(":")
        authority = f"{user}:{MASK}@{hostport}" if colon else f"{user}@{hostport}"
    path, hash_sign, fragment = tail.partition("#")
    path, question, query = path.partition("?")
    if question:
        query = _redact_pairs(query, "&;")
    if hash_sign:
        fragment = _redact_pairs(fragment, "&;")
    return f"{url[:start]}{authority}{path}{question}{query}{hash_sign}{fragment}"


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every credential it shows masked:

    - each ``scheme://…`` URL through :func:`redact_url`;
    - ``name=value`` and ``name: value`` pairs (and JSON-style ``"name": "value"``) whose
      name :func:`is_secret_name`, outside URLs too (``?token=…`` in a logged request line);
    - the credential after ``Bearer`` or ``Basic``;
    - every occurrence of each string in ``secrets`` (known credentials, such as an
      account's decrypted secret; strings shorter than 4 characters are ignored, since
      masking them would garble the text without hiding anything).
    """
    if not text:
        return text
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _URL.sub(lambda m: redact_url(m.group(0)), text)
    text = _SCHEME_CREDENTIAL.sub(lambda m: f"{m.group('kind')}{m.group('sp')}{MASK}", text)
    text = _QUOTED_PAIR.sub(_mask_quoted_pair, text)
    return _PAIR.sub(_mask_pair, text)


def _mask_pair(match: re.Match[str]) -> str:
    if is_secret_name(match.group("name")) and not match.group("value").startswith(MASK):
        return f"{match.group('name')}{match.group('sep')}{MASK}"
    return match.group(0)


def _mask_quoted_pair(match: re.Match[str]) -> str:
    if is_secret_name(match.group("name")):
        q, vq = match.group("q"), match.group("vq")
        return f"{q}{match.group('name')}{q}{match.group('sep')}{vq}{MASK}{vq}"
    return match.group(0)


def redact_value(value: object, secrets: Iterable[str] = ()) -> object:
    """``value`` with :func:`redact_text` applied to every string inside it (dicts, lists,
    tuples, recursively); a dict entry whose key :func:`is_secret_name` and whose value is a
    non-empty string becomes :data:`MASK`. Other objects are returned as they are."""
    known = tuple(secrets)
    if isinstance(value, str):
        return redact_text(value, known)
    if isinstance(value, dict):
        return {
            key: (
                MASK
                if isinstance(key, str) and is_secret_name(key) and isinstance(item, str) and item
                else redact_value(item, known)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_value(item, known) for item in value]
    if isinstance(value, tuple):
        return tuple(redact_value(item, known) for item in value)
    return value
