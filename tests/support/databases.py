"""Creating and dropping PostgreSQL test databases."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import asyncpg


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
