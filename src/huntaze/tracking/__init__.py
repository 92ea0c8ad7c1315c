"""Tracking: events the creator's tools send in about what fans did after a campaign."""
