"""The live server and the people of the schema tests (tests/horde_site/api_schema): one definition."""

from __future__ import annotations

from tests.horde_site.api_schema.conftest import horde_server, people  # noqa: F401
