"""One outbox relay in a process of its own, for tests of several relays at once.

`python -m tests.support.relay_process DATABASE_URL DESK_URL SECRET RELAY_ID` sends the
platform's pending outbox rows until none has been pending for a second, then prints how
many it delivered.
"""

from __future__ import annotations

import asyncio
import sys
import time

from cases.models import OutboxMessage, OutboxStatus
from courtwire.outbox import Relay
from tests.support.live_server import run_with_orm


async def relay_until_idle(desk_url: str, secret: str, relay_id: str) -> int:
    relay = Relay(
        OutboxMessage, destination="court", base_url=desk_url, secret=secret, relay_id=relay_id
    )
    delivered = 0
    idle_since: float | None = None
    while True:
        delivered += await relay.deliver_due(limit=5)
        if await OutboxMessage.filter(status=OutboxStatus.PENDING).exists():
            idle_since = None
        elif idle_since is None:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since > 1.0:
            return delivered
        await asyncio.sleep(0.01)


def main() -> None:
    database_url, desk_url, secret, relay_id = sys.argv[1:5]
    delivered = run_with_orm(database_url, lambda: relay_until_idle(desk_url, secret, relay_id))
    print(delivered)


if __name__ == "__main__":
    main()
