"""Migration operations of our own, shared by the checked-in migrations."""

from __future__ import annotations

from typing import Any

from tortoise.migrations import operations as ops


class DescriptionOnly(ops.AlterField):
    """A new enum member changes only the column's description (the enum is stored as text):
    record it in the state. On SQLite there is no column comment, and altering the column
    would rebuild the table, which fails for `case` and `account` rows that others refer to;
    on PostgreSQL the comment is updated as usual."""

    async def database_forward(
        self, app_label: str, old_state: Any, new_state: Any, state_editor: Any = None
    ) -> None:
        if state_editor is None or state_editor.client.capabilities.dialect == "sqlite":
            return
        await super().database_forward(app_label, old_state, new_state, state_editor)

    async def database_backward(
        self, app_label: str, old_state: Any, new_state: Any, state_editor: Any = None
    ) -> None:
        if state_editor is None or state_editor.client.capabilities.dialect == "sqlite":
            return
        await super().database_backward(app_label, old_state, new_state, state_editor)
