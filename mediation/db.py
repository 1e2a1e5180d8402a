"""Tortoise configuration and the migrations that create the schema."""

from __future__ import annotations

from typing import Any

MODEL_MODULES = [
    "cases.accounts.models",
    "cases.sessions.models",
    "cases.agreements.models",
    "cases.performance.models",
    "cases.models",
    "cases.deadlines.models",
    "cases.routing.models",
    "cases.endings.models",
    "cases.negotiation.models",
    "cases.partners.models",
    "cases.webhooks.models",
    "cases.duplicates.models",
    "cases.analytics.models",
    "cases.governance.models",
    "cases.warnings.models",
    "realtime.models",
]


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": database_url},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "mediation.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def migrate(database_url: str) -> None:
    """Apply every checked-in migration (the only way the schema is created)."""
    from tortoise import Tortoise
    from tortoise.migrations.api import migrate as run_migrations

    try:
        await run_migrations(config=tortoise_config(database_url))
    finally:
        await Tortoise.close_connections()


def tortoise_cli_config() -> dict[str, Any]:
    """For `tortoise -c mediation.db.TORTOISE_ORM makemigrations` while developing."""
    import os

    return tortoise_config(os.environ.get("DATABASE_URL", "sqlite://:memory:"))


TORTOISE_ORM = tortoise_cli_config()
