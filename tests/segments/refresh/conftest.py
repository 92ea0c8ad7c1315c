"""A database per test: a periodic refresh takes every creator's due segments, so another
test's segments must not crowd this test's out of a batch."""

from __future__ import annotations

from tests.sending import db_url, engine  # noqa: F401 (fixtures)
