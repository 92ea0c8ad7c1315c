"""The fans domain's named errors (docs/api.md "Errors")."""

from __future__ import annotations

from typing import Any

from huntaze.kit.errors import Conflict, DomainError, NotFound


class FanNotFound(NotFound):
    """404 ``fan_not_found``: no such fan for this creator."""

    error_code = "fan_not_found"
    default_message = "Fan not found"


class FanExists(Conflict):
    """409 ``fan_exists``: the platform and ``platformFanId`` belong to another fan."""

    error_code = "fan_exists"
    default_message = "A fan with this platform and platformFanId already exists"


class InvalidCriteria(DomainError):
    """422 ``invalid_criteria``: a criterion names a field or operator the language does not
    have, or a value its field cannot hold; ``details`` give its path (``criteria.all[2].op``)
    and why."""

    http_status = 422
    error_code = "invalid_criteria"
    default_message = "The segment criteria are not valid"

    def __init__(self, path: str = "criteria", message: str = "is not valid", **extra: Any) -> None:
        super().__init__(details=[{"field": path, "message": message, **extra}])
