"""Fixtures shared by every test: one fresh, migrated database per test.

SQLite (the default) copies a migrated template file; PostgreSQL (DATABASE_URL=postgres://...)
creates each test database from a migrated template database, so every test starts from the
real schema produced by the checked-in migrations, not from generate_schemas().
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from tortoise import Tortoise

from mediation.app import create_app
from mediation.db import migrate, tortoise_config
from mediation.settings import Settings
from tests.support.databases import (
    BASE_DATABASE_URL,
    database_from_template,
    is_postgres,
    migrated_template,
)
from tests.support.required import under_ci


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with migrated_template(migrate, "mediation", tmp_path_factory.mktemp("template")) as found:
        yield found


@pytest.fixture
def database_url(template_database: str, tmp_path: Path) -> Iterator[str]:
    with database_from_template(template_database, "mediation", tmp_path) as url:
        yield url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret-key-not-for-production",
        data_dir=tmp_path / "data",
        base_url="http://testserver",
        smtp_host="127.0.0.1",
        smtp_port=1,  # nothing listens there unless a test starts an SMTP server
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[None]:
    """The ORM for tests that call actions directly (no web app in the same test)."""
    await Tortoise.init(config=tortoise_config(settings.database_url), _enable_global_fallback=True)
    try:
        yield
    finally:
        await Tortoise.close_connections()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, background_jobs=False)) as test_client:
        yield test_client


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under CI (the `CI` environment variable set) a skipped test is a failed one: a
    missing browser, Redis or library must never let the suite pass by not running."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if under_ci() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, which must run every test: {report.longrepr}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgres_only` (a fault between processes and a database server, which
    SQLite has not got) are deselected on SQLite, never skipped: pytest's summary counts them
    as deselected, and the PostgreSQL run of the suite (.ci/run's second) runs them."""
    if is_postgres(BASE_DATABASE_URL):
        return
    kept = [item for item in items if item.get_closest_marker("postgres_only") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept
