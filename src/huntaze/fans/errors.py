"""The fans domain's named errors (docs/api.md "Errors")."""

from __future__ import annotations

from huntaze.kit.errors import Conflict, NotFound


class FanNotFound(NotFound):
    """404 ``fan_not_found``: no such fan for this creator."""

    error_code = "fan_not_found"
    default_message = "Fan not found"


class FanExists(Conflict):
    """409 ``fan_exists``: the platform and ``platformFanId`` belong to another fan."""

    error_code = "fan_exists"
    default_message = "A fan with this platform and platformFanId already exists"
