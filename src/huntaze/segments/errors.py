"""The segments domain's named errors (docs/api.md "Errors")."""

from __future__ import annotations

from typing import Any

from huntaze.kit.errors import Conflict, DomainError, NotFound


class InvalidCriteria(DomainError):
    """422 ``invalid_criteria``: a criterion names a field or operator the language does not
    have, or a value its field cannot hold; ``details`` give its path (``criteria.all[2].op``)
    and why."""

    http_status = 422
    error_code = "invalid_criteria"
    default_message = "The segment criteria are not valid"

    def __init__(self, path: str = "criteria", message: str = "is not valid", **extra: Any) -> None:
        super().__init__(details=[{"field": path, "message": message, **extra}])


class SegmentNotFound(NotFound):
    """404 ``segment_not_found``: no such segment for this creator."""

    error_code = "segment_not_found"
    default_message = "Segment not found"


class SegmentExists(Conflict):
    """409 ``segment_exists``: the creator already has a segment with this name."""

    error_code = "segment_exists"
    default_message = "A segment with this name already exists"


class SegmentInUse(Conflict):
    """409 ``segment_in_use``: another segment's criteria refer to this one."""

    error_code = "segment_in_use"
    default_message = "Another segment's criteria refer to this segment"
