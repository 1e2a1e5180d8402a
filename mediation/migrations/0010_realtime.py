"""Concessions stored in joint rooms before they were kept in their author's caucus: moved
there, so no room's numbers have a hole for a party (see realtime.store.move_joint_concessions).
Data only; nothing to undo (the old layout leaked)."""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops


async def move_concessions(apps: Any, schema_editor: Any) -> None:
    from realtime.store import move_joint_concessions

    await move_joint_concessions(schema_editor.client)


class Migration(migrations.Migration):
    dependencies = [("models", "0009_court")]

    initial = False

    operations = [ops.RunPython(move_concessions, ops.RunPython.noop)]
