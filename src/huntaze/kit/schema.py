"""Pydantic base models with camelCase JSON (design.md §5)."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

ItemT = TypeVar("ItemT")


class CamelModel(BaseModel):
    """A model whose JSON fields are camelCase while Python stays snake_case."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, from_attributes=True, extra="forbid"
    )


class Page(CamelModel, Generic[ItemT]):
    """One page of a list: ``{"items": [...], "nextCursor": "..."}``. Pass ``nextCursor`` back
    as ``cursor`` for the next page; it is null on the last page. A domain names its page by
    subclassing, ``class FanPage(Page[FanOut])``, so the OpenAPI document names it too."""

    items: list[ItemT]
    next_cursor: str | None = None


class ErrorDetail(BaseModel):
    """One offending field or line."""

    model_config = ConfigDict(extra="allow")


class ErrorBody(BaseModel):
    """``{"code", "message", "details"}``."""

    code: str
    message: str
    details: list[dict[str, object]] = []


class ErrorResponse(BaseModel):
    """The error envelope: ``{"error": {...}}``."""

    error: ErrorBody
