"""``python -m huntaze`` runs the CLI."""

from huntaze.cli import app

app()
