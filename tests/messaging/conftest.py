"""The messaging tests' fixtures (tests/sending.py)."""

from tests.sending import (  # noqa: F401 (fixtures)
    box,
    channel,
    db_url,
    engine,
    enqueue,
    make_outbox,
    make_worker,
    seed,
)
