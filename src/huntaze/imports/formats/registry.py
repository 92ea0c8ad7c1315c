"""Names of the import formats, and how to get a parser for one."""

from __future__ import annotations

import importlib
from typing import Any

from huntaze.imports.base import Parser

#: format name -> (module, factory function). The factory takes keyword arguments
#: ``platform`` and ``mapping`` and ignores those it does not need.
FORMATS: dict[str, tuple[str, str]] = {
    "patreon_members": ("huntaze.imports.formats.patreon", "make_parser"),
    "substack_subscribers": ("huntaze.imports.formats.substack", "make_parser"),
    "kofi_payments": ("huntaze.imports.formats.kofi", "make_parser"),
    "onlyfans_fans": ("huntaze.imports.formats.onlyfans", "make_fans_parser"),
    "onlyfans_transactions": ("huntaze.imports.formats.onlyfans", "make_transactions_parser"),
    "instagram_followers": ("huntaze.imports.formats.instagram", "make_parser"),
    "tiktok_followers_json": ("huntaze.imports.formats.tiktok", "make_json_parser"),
    "tiktok_followers_txt": ("huntaze.imports.formats.tiktok", "make_txt_parser"),
    "generic_csv": ("huntaze.imports.formats.generic", "make_parser"),
}


def get_parser(
    format_name: str, *, platform: str | None = None, mapping: dict[str, Any] | None = None
) -> Parser:
    """Return a parser for ``format_name``.

    Raises:
        KeyError: for an unknown format name.
        huntaze.imports.base.ImportFormatError: when the format needs a mapping
            (``generic_csv``) and it is missing or invalid.
    """
    module_name, factory_name = FORMATS[format_name]
    factory = getattr(importlib.import_module(module_name), factory_name)
    parser: Parser = factory(platform=platform, mapping=mapping)
    return parser
