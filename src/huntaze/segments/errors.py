"""The segments domain's named errors (docs/api.md "Errors")."""

from __future__ import annotations

from huntaze.kit.errors import Conflict, NotFound


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
