"""Messaging: the outbox, send-rate limits, retries, circuit breaker, workers and channels."""
