"""Idempotent requests: a key reserved per creator, the stored answer replayed (IETF
draft-ietf-httpapi-idempotency-key-header)."""
