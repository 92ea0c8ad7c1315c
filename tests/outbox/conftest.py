"""The outbox tests' fixtures (tests/sending.py)."""

from tests.sending import (  # noqa: F401 (fixtures)
    box,
    channel,
    enqueue,
    make_outbox,
    make_worker,
    quiet_outbox,
    seed,
)
