"""HTTP routes for API tokens: ``/api/tokens`` (list, create, revoke; owners only)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/tokens", tags=["tokens"])
