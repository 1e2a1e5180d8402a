"""The desk's Tortoise configuration and migrations (its own database, app label "desk").

Migrations are Tortoise's own, checked in under courtdesk/migrations/; after a model
change run `tortoise -c courtdesk.db.TORTOISE_ORM makemigrations -n <name>`.
"""

from __future__ import annotations

import os
from typing import Any

APP = "desk"
MODEL_MODULES = ["courtdesk.models"]


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": database_url},
        "apps": {
            APP: {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "courtdesk.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def migrate(database_url: str) -> None:
    """Apply every checked-in migration (the only way the desk's schema is created)."""
    from tortoise import Tortoise
    from tortoise.migrations.api import migrate as run_migrations

    try:
        await run_migrations(config=tortoise_config(database_url))
    finally:
        await Tortoise.close_connections()


# For the tortoise CLI while developing.
TORTOISE_ORM = tortoise_config(os.environ.get("DESK_DATABASE_URL", "sqlite://:memory:"))
