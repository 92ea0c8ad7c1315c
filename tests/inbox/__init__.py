"""Tests of the inbox domain (src/huntaze/inbox/)."""
