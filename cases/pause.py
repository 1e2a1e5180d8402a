"""Named pause points inside critical sections, so the concurrency tests can prove a lock.

An action that takes a lock (a row lock, a conditional-update claim, a unique index) calls
`await pause_point("<name>")` right after it holds the lock and has read what the lock
protects, before it writes. In production no hook is set and this costs one dict lookup.

Two tasks racing in one process rarely interleave exactly where a lock matters, so a test
that merely `asyncio.gather`s two actions passes with or without the lock. The tests'
rendezvous (`tests/support/concurrency.py`) sets a hook here that holds the first task
until a second one reaches the same point (or a short time passes): with the lock the
second task cannot get there while the first holds it, so the first goes on alone after
the wait; without the lock both arrive, both act on the same read, and the test fails
every time. On SQLite the ORM runs one transaction at a time per process, so such a test
can only fail on PostgreSQL; each test says which databases it proves anything on.

A test that runs the code in another process (the court desk's server) cannot set a hook,
so it starts that process with `PAUSE_POINTS="<name>=<seconds>,..."`: a plain sleep at
each named point, long enough for a second request to reach it too when nothing stops it.
Never set in production (it only slows the named actions down).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

Hook = Callable[[str], Awaitable[None]]

_hooks: dict[str, Hook] = {}


async def pause_point(name: str) -> None:
    """Where a test may hold this task; nothing happens unless a test set a hook."""
    hook = _hooks.get(name)
    if hook is not None:
        await hook(name)


def set_hook(name: str, hook: Hook | None) -> None:
    """For tests only: run `hook` at the pause point `name` (None removes it)."""
    if hook is None:
        _hooks.pop(name, None)
    else:
        _hooks[name] = hook


def _sleep_for(seconds: float) -> Hook:
    async def sleep(name: str) -> None:
        await asyncio.sleep(seconds)

    return sleep


def _from_environment(spec: str) -> None:
    for entry in spec.split(","):
        name, _, seconds = entry.partition("=")
        if name.strip() and seconds.strip():
            set_hook(name.strip(), _sleep_for(float(seconds)))


_from_environment(os.environ.get("PAUSE_POINTS", ""))
