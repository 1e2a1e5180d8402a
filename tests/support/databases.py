"""Test databases: a migrated template per test session, a fresh copy of it per test.

SQLite copies a migrated template file; PostgreSQL creates each test database from a
migrated template database. The platform's fixtures (tests/conftest.py) and the court
desk's (tests/courtdesk/conftest.py) both use these, each with its own migrations.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

BASE_DATABASE_URL = os.environ.get("DATABASE_URL", "")


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://", "asyncpg://"))


class PostgresAdmin:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._parts = parts
        # Administrative commands run from the maintenance database.
        self._admin_dsn = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))

    def url_for(self, name: str) -> str:
        p = self._parts
        return urlunsplit(("postgres", p.netloc, f"/{name}", p.query, ""))

    async def create(self, name: str, template: str | None = None) -> None:
        conn = await asyncpg.connect(self._admin_dsn)
        try:
            suffix = f' TEMPLATE "{template}"' if template else ""
            await conn.execute(f'CREATE DATABASE "{name}"{suffix}')
        finally:
            await conn.close()

    async def drop(self, name: str) -> None:
        conn = await asyncpg.connect(self._admin_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@contextmanager
def migrated_template(
    migrate: Callable[[str], Awaitable[None]], prefix: str, scratch: Path
) -> Iterator[str]:
    """A database migrated by `migrate`: a PostgreSQL database name (dropped afterwards) when
    DATABASE_URL is PostgreSQL, otherwise the path of a SQLite file in `scratch`."""
    if is_postgres(BASE_DATABASE_URL):
        admin = PostgresAdmin(BASE_DATABASE_URL)
        name = f"{prefix}_tpl_{uuid.uuid4().hex[:10]}"
        asyncio.run(admin.create(name))
        try:
            asyncio.run(migrate(admin.url_for(name)))
            yield name
        finally:
            asyncio.run(admin.drop(name))
    else:
        path = scratch / f"{prefix}_template.sqlite3"
        asyncio.run(migrate(f"sqlite://{path}"))
        yield str(path)


@contextmanager
def database_from_template(template: str, prefix: str, scratch: Path) -> Iterator[str]:
    """A fresh copy of `template` (from `migrated_template`) as a database URL."""
    if is_postgres(BASE_DATABASE_URL):
        admin = PostgresAdmin(BASE_DATABASE_URL)
        name = f"{prefix}_t_{uuid.uuid4().hex[:12]}"
        asyncio.run(admin.create(name, template=template))
        try:
            yield admin.url_for(name)
        finally:
            asyncio.run(admin.drop(name))
    else:
        path = scratch / f"{prefix}.sqlite3"
        shutil.copyfile(template, path)
        yield f"sqlite://{path}"
