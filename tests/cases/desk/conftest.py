"""The desk's own test databases, made the way tests/conftest.py makes the platform's.

SQLite: a migrated template file copied per test. PostgreSQL (DATABASE_URL=postgres://...):
a migrated template database, each test's database created from it and dropped after.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from tortoise import Tortoise

from cases.court.desk.db import migrate, tortoise_config
from tests.cases.desk.support import Desk, make_clerk, run_desk
from tests.support.databases import PostgresAdmin, is_postgres

BASE_DATABASE_URL = os.environ.get("DATABASE_URL", "")


@pytest.fixture(scope="session")
def desk_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if is_postgres(BASE_DATABASE_URL):
        admin = PostgresAdmin(BASE_DATABASE_URL)
        name = f"desk_tpl_{uuid.uuid4().hex[:10]}"
        asyncio.run(admin.create(name))
        try:
            asyncio.run(migrate(admin.url_for(name)))
            yield name
        finally:
            asyncio.run(admin.drop(name))
    else:
        path = tmp_path_factory.mktemp("desk-template") / "courtdesk.sqlite3"
        asyncio.run(migrate(f"sqlite://{path}"))
        yield str(path)


@pytest.fixture
def desk_database_url(desk_template: str, tmp_path: Path) -> Iterator[str]:
    if is_postgres(BASE_DATABASE_URL):
        admin = PostgresAdmin(BASE_DATABASE_URL)
        name = f"desk_t_{uuid.uuid4().hex[:12]}"
        asyncio.run(admin.create(name, template=desk_template))
        try:
            yield admin.url_for(name)
        finally:
            asyncio.run(admin.drop(name))
    else:
        path = tmp_path / "courtdesk.sqlite3"
        shutil.copyfile(desk_template, path)
        yield f"sqlite://{path}"


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
