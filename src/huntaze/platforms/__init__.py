"""Platforms behind small typed protocols, each with a fake server for tests (design.md §1.4)."""
