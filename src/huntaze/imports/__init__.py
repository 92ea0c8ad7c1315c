"""Imports: fans and purchases from the files creators export.

``service`` and ``router`` are the use case and its HTTP face; ``reading/`` turns bytes into
cells (encodings, CSV and JSON streams, column converters), ``formats/`` holds one parser per
export format (formats.md), ``writing/`` plans and writes the records; ``records``,
``base``, ``validate`` and ``report`` are the types and rules they share.
"""
