"""The desk's checked-in migrations are its schema: they must describe its models exactly."""

from tortoise.cli.cli import tortoise_cli_context
from tortoise.migrations.autodetector import MigrationAutodetector

from courtdesk.db import tortoise_config


async def test_desk_models_have_no_changes_missing_a_migration() -> None:
    config = tortoise_config("sqlite://:memory:")
    apps = config["apps"]
    async with tortoise_cli_context(config) as ctx:
        assert ctx.apps
        writers = await MigrationAutodetector(ctx.apps, apps).changes()
    pending = [op for w in writers for op in w.operations]  # type: ignore[attr-defined]
    assert pending == [], "run: tortoise -c courtdesk.db.TORTOISE_ORM makemigrations"
