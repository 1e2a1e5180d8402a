"""A separate process that adds one to a counter kept on a case, read-modify-write, inside one
transaction: the other side of tests/cases/test_transactions.py's two-process lock test.

    python -m tests.support.lock_worker DATABASE_URL CASE_ID HOLD_SECONDS (locked|unlocked)

It prints `ready` once the ORM is up, waits for a line on stdin (so both workers start their
transactions together), then prints `read <n> <monotonic time>` after reading the counter and
`done <monotonic time>` after the commit. `unlocked` reads the case without `lock_case`: the
control that shows the test can see a lost update."""

from __future__ import annotations

import asyncio
import sys
import time

from tortoise import Tortoise

from cases.models import Case
from cases.transactions import atomic, locked_case
from mediation.db import tortoise_config


async def main(url: str, case_id: int, hold: float, mode: str) -> None:
    await Tortoise.init(config=tortoise_config(url))
    try:
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        async with atomic():
            case = await locked_case(case_id) if mode == "locked" else await Case.get(id=case_id)
            count = int(case.triage.get("lock_test_count", 0))
            print(f"read {count} {time.monotonic()}", flush=True)
            await asyncio.sleep(hold)  # another process's action would interleave here
            triage = dict(case.triage, lock_test_count=count + 1)
            await Case.filter(id=case_id).update(triage=triage)
        print(f"done {time.monotonic()}", flush=True)
    finally:
        await Tortoise.close_connections()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]))
