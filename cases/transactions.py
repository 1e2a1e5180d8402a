"""How every action writes: one transaction (`atomic`), the case row locked first
(`lock_case`), and what must happen outside the database only once the transaction has
committed (`on_commit`).

After-commit effects are registered inside the transaction that causes them and run only if
it commits, in the order registered (the way zulip's `send_event_on_commit` rides on Django's
`transaction.on_commit`). An effect registered in a nested `atomic()` joins the outermost
transaction: it runs when that one commits, and is dropped if the nested block or the outer
transaction rolls back. A failing effect is logged and does not stop the next ones: the data
is committed already, and each effect has its own way to catch up (a sweep job, the next
announcement, a page reload).

Locking a case: actions that read a case, decide, and write must not interleave with another
action on the same case. On PostgreSQL that is the row lock (`SELECT ... FOR UPDATE`). SQLite
ignores FOR UPDATE; there a transaction's first write takes the database's write lock, so
`lock_case` writes the row (a no-op update) instead. It must be the transaction's first
statement on SQLite: a transaction that has read first holds a shared lock, and two such
transactions upgrading to write would deadlock (SQLite then fails one at once instead of
waiting).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient
from tortoise.exceptions import DoesNotExist
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from cases.models import Case

log = logging.getLogger("cases.transactions")

Effect = Callable[[], Awaitable[None]]

# The effects waiting for the innermost open `atomic()` of this task (None: none open).
_pending: ContextVar[list[Effect] | None] = ContextVar("after_commit_effects", default=None)


@asynccontextmanager
async def atomic() -> AsyncIterator[BaseDBAsyncClient]:
    """One transaction (a savepoint when nested) that collects after-commit effects."""
    outer = _pending.get()
    effects: list[Effect] = []
    token = _pending.set(effects)
    try:
        async with in_transaction() as connection:
            yield connection
    finally:
        _pending.reset(token)
    # Reached only when the block committed (or released its savepoint).
    if outer is not None:
        outer.extend(effects)  # the outermost transaction decides
        return
    for effect in effects:
        try:
            await effect()
        except Exception:
            log.exception("after-commit effect %r failed", effect)


def on_commit(effect: Effect) -> None:
    """Run `effect` once the current `atomic()` transaction commits (never if it rolls back)."""
    effects = _pending.get()
    if effects is None:
        raise RuntimeError("on_commit() outside atomic(): the effect would run before commit")
    effects.append(effect)


def _current_connection() -> BaseDBAsyncClient:
    connection: BaseDBAsyncClient = Case._meta.db
    return connection


async def lock_case(case_id: int, **conditions: Any) -> Case | None:
    """Lock the case row for the rest of the current transaction and read it as it is now;
    None if no case with that id matches `conditions` (e.g. `status=Status.ACCEPTED`), in
    which case nothing is locked on PostgreSQL and nothing is written on SQLite."""
    connection = _current_connection()
    if not isinstance(connection, TransactionalDBClient):
        raise RuntimeError("lock_case() outside a transaction locks nothing")
    if connection.capabilities.dialect == "sqlite":
        changed = await Case.filter(id=case_id, **conditions).update(number=F("number"))
        return await Case.get(id=case_id) if changed else None
    return await Case.select_for_update().get_or_none(id=case_id, **conditions)


async def locked_case(case_id: int, **conditions: Any) -> Case:
    """`lock_case` for a case that must exist (and match): DoesNotExist otherwise."""
    case = await lock_case(case_id, **conditions)
    if case is None:
        raise DoesNotExist(Case)
    return case
