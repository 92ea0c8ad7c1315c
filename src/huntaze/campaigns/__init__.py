"""Campaigns: a message to an audience on one or more platforms, sent through the outbox."""
