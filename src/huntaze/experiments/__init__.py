"""Experiments: A/B tests of campaigns, and the statistics that decide them."""
