"""The desk's own test databases, made the way tests/conftest.py makes the platform's.

SQLite: a migrated template file copied per test. PostgreSQL (DATABASE_URL=postgres://...):
a migrated template database, each test's database created from it and dropped after.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from tortoise import Tortoise

from courtdesk.db import migrate, tortoise_config
from tests.courtdesk.support import Desk, make_clerk, run_desk
from tests.support.databases import database_from_template, migrated_template


@pytest.fixture(scope="session")
def desk_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with migrated_template(migrate, "desk", tmp_path_factory.mktemp("desk-template")) as found:
        yield found


@pytest.fixture
def desk_database_url(desk_template: str, tmp_path: Path) -> Iterator[str]:
    # Its own file name: a test may hold the platform's database in the same tmp_path.
    with database_from_template(desk_template, "courtdesk", tmp_path) as url:
        yield url


@pytest.fixture
async def desk_db(desk_database_url: str) -> AsyncIterator[str]:
    """The desk's models in the test process (for tests of its actions; no server)."""
    await Tortoise.init(config=tortoise_config(desk_database_url), _enable_global_fallback=True)
    try:
        yield desk_database_url
    finally:
        await Tortoise.close_connections()


@pytest.fixture
def desk(desk_database_url: str) -> Iterator[Desk]:
    """A running desk (its own process) with one clerk, its callbacks going nowhere."""
    make_clerk(desk_database_url)
    with run_desk(desk_database_url) as running:
        yield running
