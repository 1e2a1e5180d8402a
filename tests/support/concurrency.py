"""A rendezvous at a named pause point (`cases.pause`), so a concurrency test fails every
time its lock is missing instead of only when the scheduler happens to interleave.

Each task that reaches the point waits until `parties` tasks have arrived or `wait` seconds
have passed. With the lock, the later tasks are blocked on it, so the first one goes on
after the wait, commits, and the next one arrives alone (it too waits only until the
timeout, or not at all once enough tasks have been seen). Without the lock all tasks
arrive together, pass the point at once, and act on the same read.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from cases.pause import set_hook


def on_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith("postgres")


@dataclass
class Rendezvous:
    parties: int
    wait: float
    arrived: int = 0
    together: int = 0  # how many tasks passed the point while another was also held there
    _all_here: asyncio.Event = field(default_factory=asyncio.Event)
    _waiting: int = 0

    async def __call__(self, name: str) -> None:
        self.arrived += 1
        if self.arrived >= self.parties:
            self._all_here.set()
        self._waiting += 1
        if self._waiting > 1:
            self.together = max(self.together, self._waiting)
        try:
            await asyncio.wait_for(self._all_here.wait(), self.wait)
        except TimeoutError:
            pass
        finally:
            self._waiting -= 1


@contextmanager
def rendezvous(*names: str, parties: int = 2, wait: float = 1.0) -> Iterator[Rendezvous]:
    """Hold tasks at any of `names` until `parties` arrived (or `wait` s); see the module
    docstring. Two names: two different actions meeting, each at its own critical section."""
    point = Rendezvous(parties, wait)
    for name in names:
        set_hook(name, point)
    try:
        yield point
    finally:
        for name in names:
            set_hook(name, None)
