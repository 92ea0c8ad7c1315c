"""``{variable}`` placeholders in quick replies and message templates."""

from __future__ import annotations

import re
from collections.abc import Mapping

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]{0,63})\}")


def variables(template: str) -> list[str]:
    """Return the placeholder names in ``template``, in order of first use, without repeats."""
    seen: dict[str, None] = {}
    for match in PLACEHOLDER.finditer(template):
        seen.setdefault(match.group(1), None)
    return list(seen)


def parts(template: str) -> list[tuple[str, bool]]:
    """Split ``template`` into ``(text, is_placeholder)`` pieces, in order.

    A placeholder piece holds the variable's name (``("username", True)`` for
    ``{username}``); a text piece holds the literal text between placeholders (never empty).
    Joining the texts with each placeholder's value gives what :func:`render` gives, so SQL
    can render a template by concatenation, one pass, as :func:`render` does.
    """
    pieces: list[tuple[str, bool]] = []
    start = 0
    for match in PLACEHOLDER.finditer(template):
        if match.start() > start:
            pieces.append((template[start : match.start()], False))
        pieces.append((match.group(1), True))
        start = match.end()
    if start < len(template):
        pieces.append((template[start:], False))
    return pieces


def render(template: str, values: Mapping[str, object], default: str = "") -> str:
    """Replace each ``{name}`` with ``values[name]``; a missing or empty value gives ``default``.

    Text that is not a placeholder (a lone ``{``, JSON) is left as it is.
    """

    def substitute(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if value is None or value == "":
            return default
        return str(value)

    return PLACEHOLDER.sub(substitute, template)
