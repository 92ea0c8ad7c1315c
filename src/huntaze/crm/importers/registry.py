"""Names of the import formats, and how to get a parser for one."""

from __future__ import annotations

import importlib
from typing import Any

from huntaze.crm.importers.base import Parser

#: format name -> (module, factory function). The factory takes keyword arguments
#: ``platform`` and ``mapping`` and ignores those it does not need.
FORMATS: dict[str, tuple[str, str]] = {
    "patreon_members": ("huntaze.crm.importers.patreon", "make_parser"),
    "substack_subscribers": ("huntaze.crm.importers.substack", "make_parser"),
    "kofi_payments": ("huntaze.crm.importers.kofi", "make_parser"),
    "onlyfans_fans": ("huntaze.crm.importers.onlyfans", "make_fans_parser"),
    "onlyfans_transactions": ("huntaze.crm.importers.onlyfans", "make_transactions_parser"),
    "instagram_followers": ("huntaze.crm.importers.instagram", "make_parser"),
    "tiktok_followers_json": ("huntaze.crm.importers.tiktok", "make_json_parser"),
    "tiktok_followers_txt": ("huntaze.crm.importers.tiktok", "make_txt_parser"),
    "generic_csv": ("huntaze.crm.importers.generic", "make_parser"),
}


def get_parser(
    format_name: str, *, platform: str | None = None, mapping: dict[str, Any] | None = None
) -> Parser:
    """Return a parser for ``format_name``.

    Raises:
        KeyError: for an unknown format name.
        huntaze.crm.importers.base.ImportFormatError: when the format needs a mapping
            (``generic_csv``) and it is missing or invalid.
    """
    module_name, factory_name = FORMATS[format_name]
    factory = getattr(importlib.import_module(module_name), factory_name)
    parser: Parser = factory(platform=platform, mapping=mapping)
    return parser
