"""The outbox engine: queue rows are claimed within each account's send limits, sent through
their channel and completed; it knows channels and nothing of HTTP."""
