"""The two applications the fan-list benchmark serves with uvicorn (``--factory``).

- :func:`huntaze_app`: Huntaze's real API, configured from the ``HUNTAZE_*`` environment and
  logging as ``huntaze serve`` does (``configure_logging`` at the configured level).
- :func:`bare_app`: a minimal FastAPI application with one route, ``GET /page``, that returns
  the JSON object stored in the file named by ``FANLIST_BARE_BODY`` (a page of the fan list),
  through FastAPI's own serialisation: the floor of serving that body from Python.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI


def huntaze_app() -> FastAPI:
    """Huntaze's API as ``huntaze serve --no-worker`` builds it (the migrations already ran)."""
    from huntaze.api import create_app
    from huntaze.config import get_settings
    from huntaze.kit.logging import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    return create_app(settings)


def bare_app() -> FastAPI:
    """One route returning the stored page."""
    body: dict[str, Any] = json.loads(Path(os.environ["FANLIST_BARE_BODY"]).read_text())
    app = FastAPI()

    @app.get("/page")
    def page() -> dict[str, Any]:
        return body

    return app
