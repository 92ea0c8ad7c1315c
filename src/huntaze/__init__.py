"""Huntaze: a self-hostable, open growth backend for content creators and their agencies."""

__version__ = "0.1.0"
