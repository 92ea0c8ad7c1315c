"""Tests of the fans domain (src/huntaze/fans/)."""
