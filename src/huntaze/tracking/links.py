"""Click tracking: the links of a campaign's messages are rewritten at send time to
``<public URL>/t/<token>``, and following one records the click and redirects.

A token names a message and the position of a link in its text, signed with HMAC-SHA256
(RFC 2104) under a key derived from the secret box (:meth:`huntaze.kit.crypto.SecretBox.
subkeys`). It carries no target: the target is read back from the stored message, and it
must be a link the campaign's own content names, so ``/t/`` is never an open redirect.
Rewriting happens as the worker hands the message to its channel
(:class:`huntaze.outbox.worker.Worker`'s ``prepare``), so the outbox row keeps the text the
creator wrote, and every attempt of a message gets the same tokens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import replace

from huntaze.kit.templates import parts
from huntaze.platforms.base import OutgoingMessage

#: The HKDF ``info`` of the link-signing keys.
PURPOSE = "huntaze click tracking v1"
#: An ``http`` or ``https`` link in a message: up to the first space, quote or angle bracket.
LINK = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
#: Punctuation that ends a sentence rather than a link ("see https://x.y/a.").
TRAILING = ".,;:!?)]'\""
#: The longest token :meth:`LinkSigner.open` looks at.
MAX_TOKEN = 200
_SIGNATURE_BYTES = 16  # 128 bits: guessing one is hopeless


def links_in(text: str) -> list[str]:
    """The ``http(s)`` links of ``text``, in order, without trailing sentence punctuation."""
    return [m.group(0).rstrip(TRAILING) for m in LINK.finditer(text)]


def _spans(text: str) -> list[tuple[int, int]]:
    out = []
    for m in LINK.finditer(text):
        link = m.group(0).rstrip(TRAILING)
        out.append((m.start(), m.start() + len(link)))
    return out


class LinkSigner:
    """Signs and opens link tokens ``<message id>.<link index>.<signature>``.

    Args:
        keys: HMAC keys, newest first (:meth:`~huntaze.kit.crypto.SecretBox.subkeys`): the
            first signs, any of them verifies.

    Raises:
        ValueError: when ``keys`` is empty.
    """

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("at least one signing key is needed")
        self._keys = keys

    @staticmethod
    def _sign(key: bytes, payload: str) -> str:
        digest = hmac.new(key, payload.encode(), hashlib.sha256).digest()[:_SIGNATURE_BYTES]
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def token(self, message_id: str, index: int) -> str:
        """The token of the ``index``-th link (from 0) of message ``message_id``."""
        payload = f"{message_id}.{index}"
        return f"{payload}.{self._sign(self._keys[0], payload)}"

    def open(self, token: str) -> tuple[str, int] | None:
        """The message id and link index ``token`` was signed for, or ``None`` when it is
        malformed or no key's signature matches (compared in constant time,
        :func:`hmac.compare_digest`)."""
        if len(token) > MAX_TOKEN or not token.isascii():
            return None
        parts = token.split(".")
        if len(parts) != 3 or not parts[1].isdigit() or len(parts[1]) > 4:
            return None
        message_id, index, signature = parts
        payload = f"{message_id}.{index}"
        matched = False
        for key in self._keys:
            matched |= hmac.compare_digest(self._sign(key, payload), signature)
        return (message_id, int(index)) if matched else None


class LinkRewriter:
    """The worker's ``prepare``: each link of a campaign's message becomes
    ``<public_url>/t/<token>``; other messages pass unchanged.

    Args:
        signer: signs the tokens.
        public_url: where fans reach this Huntaze (``HUNTAZE_PUBLIC_URL``), without a
            trailing slash.
    """

    def __init__(self, signer: LinkSigner, public_url: str) -> None:
        self.signer = signer
        self.public_url = public_url.rstrip("/")

    def __call__(self, message: OutgoingMessage) -> OutgoingMessage:
        """``message`` with its links rewritten (the same text on every attempt)."""
        if message.campaign_id is None:
            return message
        spans = _spans(message.content)
        if not spans:
            return message
        pieces, at = [], 0
        for index, (start, end) in enumerate(spans):
            token = self.signer.token(message.message_id, index)
            pieces += [message.content[at:start], f"{self.public_url}/t/{token}"]
            at = end
        pieces.append(message.content[at:])
        return replace(message, content="".join(pieces))


def allows(templates: list[str], target: str) -> bool:
    """Whether ``target`` is one of the links the campaign's ``templates`` (its content
    texts) name. A ``{placeholder}`` inside a template's link matches any characters a link
    may hold, as personalisation may have put there."""
    for template in templates:
        for link in links_in(template):
            pattern = "".join(
                r"[^\s<>\"'`]*" if is_variable else re.escape(piece)
                for piece, is_variable in parts(link)
            )
            if re.fullmatch(pattern, target):
                return True
    return False
