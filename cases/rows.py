"""New rows written many at once, without a model object per row.

A batch of filings writes hundreds of rows per table that nothing reads back in the same
request (notices, webhook deliveries, sources, order snapshots, idempotency records).
Building an ORM object for each costs more than sending it (the ORM checks every attribute
as it is set); here a row is a plain mapping of the model's field names (a relation by its
`<name>_id`) to values, converted by the fields themselves and sent with the ORM's own
INSERT statement in one round trip.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tortoise.models import Model

Row = dict[str, Any]


async def insert_rows(model: type[Model], rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` into `model`'s table with one statement, in the current transaction.
    A field a row leaves out takes the field's default (a row naming a field the model does
    not have, or leaving out one without a default, is a programming error: KeyError)."""
    if not rows:
        return
    db = model._choose_db(True)
    executor = db.executor_class(model=model, db=db)
    columns: list[str] = list(executor.regular_columns)
    fields = model._meta.fields_map
    known = set(columns)
    values = []
    for row in rows:
        unknown = set(row) - known
        if unknown:
            raise KeyError(f"{model.__name__} has no field {sorted(unknown)}")
        values.append(
            [
                fields[column].to_db_value(
                    row[column] if column in row else _default(model, column), model
                )
                for column in columns
            ]
        )
    await db.execute_many(executor.insert_query, values)


def _default(model: type[Model], column: str) -> Any:
    field = model._meta.fields_map[column]
    default = field.default
    if callable(default):
        return default()
    if default is not None:
        return default
    if field.null:
        return None
    raise KeyError(f"{model.__name__}.{column} has no default: the row must give it")
