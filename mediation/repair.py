"""Repairing text stored before every door checked it (`mediation repair-text`).

Until issue 9 a room frame or an API filing could store strings that are not storable
text (see realtime.text): a lone surrogate from JSON's "\\ud800" (in SQLite's JSON columns),
NUL (SQLite), control characters (both databases). They break whatever later encodes them:
a room's replay, the transcript, a court package. This finds them in every text and JSON
column of every model and replaces each bad character with U+FFFD, in batches by primary
key, each batch in its own transaction, so it can run while the platform is up. It is an
action (the only writer of what it changes) and records nothing else: the rows' meaning is
unchanged, only characters nobody could read are marked.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from tortoise import Tortoise, fields
from tortoise.models import Model

from cases.transactions import atomic
from realtime.text import first_bad_string, is_storable, repaired, repaired_json

BATCH = 500


def _text_columns(model: type[Model]) -> tuple[list[str], list[str]]:
    """The model's plain text fields and its JSON fields (enums hold only known values)."""
    texts, jsons = [], []
    for name, field in model._meta.fields_map.items():
        if isinstance(field, fields.JSONField):
            jsons.append(name)
        elif isinstance(field, (fields.CharField, fields.TextField)) and not isinstance(
            field, fields.data.CharEnumFieldInstance
        ):
            texts.append(name)
    return texts, jsons


def _models() -> list[type[Model]]:
    return sorted(
        (m for app in Tortoise.apps.values() for m in app.values()),
        key=lambda m: m._meta.db_table,
    )


def _is_bad(value: Any, json_column: bool) -> bool:
    if value is None:
        return False
    if json_column:
        return first_bad_string(value, max_depth=10_000) is not None
    return isinstance(value, str) and not is_storable(value)


async def do_repair_text(*, dry_run: bool = False) -> Counter[str]:
    """Repair every stored string that is not storable text; returns the number of values
    found per "table.column" (repaired unless `dry_run`)."""
    found: Counter[str] = Counter()
    for model in _models():
        texts, jsons = _text_columns(model)
        if not texts and not jsons:
            continue
        pk = model._meta.pk_attr
        last: Any = None
        while True:
            query = model.all().order_by(pk).limit(BATCH)
            if last is not None:
                query = query.filter(**{f"{pk}__gt": last})
            rows = await query.values(pk, *texts, *jsons)
            if not rows:
                break
            last = rows[-1][pk]
            changes: list[tuple[Any, dict[str, Any]]] = []
            for row in rows:
                change: dict[str, Any] = {}
                for name in texts:
                    if _is_bad(row[name], json_column=False):
                        change[name] = repaired(row[name])
                for name in jsons:
                    if _is_bad(row[name], json_column=True):
                        change[name] = repaired_json(row[name])
                for name in change:
                    found[f"{model._meta.db_table}.{name}"] += 1
                if change:
                    changes.append((row[pk], change))
            if changes and not dry_run:
                async with atomic():
                    for key, change in changes:
                        await model.filter(**{pk: key}).update(**change)
    return found
