"""Segments: audiences described by criteria, compiled to one SQL ``WHERE``."""
