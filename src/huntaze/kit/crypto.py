"""Secrets at rest (platform tokens, relay secrets): Fernet with key rotation.

Uses ``cryptography``'s MultiFernet: the first key encrypts, every key decrypts, and
:meth:`SecretBox.rotate` re-encrypts a token under the first key.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SecretBox:
    """Encrypts and decrypts short secrets with a rotating set of Fernet keys.

    Args:
        keys: Fernet keys (urlsafe base64 of 32 bytes), newest first.

    Raises:
        ValueError: if no key is given or a key is malformed.
    """

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        self._keys = [k.encode() for k in keys]

    def subkeys(self, purpose: str) -> list[bytes]:
        """32-byte keys for ``purpose`` (an HMAC signing links, say), one per Fernet key in
        the same order: the first signs, every one verifies, so they rotate with the box.

        Derived with HKDF-SHA256 (RFC 5869) from each key, ``purpose`` as its ``info``, so a
        subkey reveals nothing of the key that encrypts secrets or of other purposes' keys.
        """
        return [
            HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(k)
            for k in self._keys
        ]

    def encrypt(self, plaintext: str) -> str:
        """Return the Fernet token (ASCII) for ``plaintext``."""
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        """Return the plaintext of ``token``.

        Raises:
            ValueError: if no key opens the token (tampered, or its key was retired).
        """
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("secret cannot be decrypted with the configured keys") from exc

    def rotate(self, token: str) -> str:
        """Return ``token`` re-encrypted under the newest key.

        Raises:
            ValueError: if no key opens the token.
        """
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("secret cannot be decrypted with the configured keys") from exc


def load_box(keys: str, key_file: str | Path) -> SecretBox:
    """Build a :class:`SecretBox` from ``keys`` (comma-separated Fernet keys, newest first),
    or, when ``keys`` is blank, from the one key in ``key_file``.

    When the file does not exist, a key is generated once into it (mode 0600), so the
    embedded default works with no set-up and keeps working across restarts.

    Raises:
        ValueError: if a key is malformed.
        OSError: if the key file cannot be read or created.
    """
    raw = keys.strip()
    if raw:
        return SecretBox([k.strip() for k in raw.split(",") if k.strip()])
    path = Path(key_file)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(Fernet.generate_key().decode())
    return SecretBox([path.read_text().strip()])
