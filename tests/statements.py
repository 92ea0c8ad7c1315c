"""Capturing the SQL statements an engine runs, to explain them as they were run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event


def captured(
    engine: Engine, run: Callable[[], Any], keep: Callable[[str], bool]
) -> list[tuple[str, Any]]:
    """The statements ``keep`` accepts that ``engine`` runs during ``run()``, in order, with
    their parameters."""
    seen: list[tuple[str, Any]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if keep(statement):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return seen
