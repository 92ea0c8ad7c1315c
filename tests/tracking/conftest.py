"""The tracking tests use the campaign tests' fixtures."""

from tests.campaigns.conftest import drain, relay  # noqa: F401 (fixtures)
from tests.segments.conftest import audience  # noqa: F401 (fixture)
from tests.sending import db_url, engine  # noqa: F401 (fixtures)
