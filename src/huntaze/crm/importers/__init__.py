"""Importers: read the exports creators bring (formats.md) and upsert their fans."""
