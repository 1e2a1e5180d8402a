"""cases.transactions on the real database: after-commit effects run only when the
transaction that registered them commits, and lock_case() serialises two processes acting on
one case, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cases.models import Case
from cases.status import Status
from cases.transactions import atomic, lock_case, locked_case, on_commit
from tests.support.factories import file_and_consent

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


class Boom(Exception):
    pass


def recorder(seen: list[str], name: str) -> Callable[[], Awaitable[None]]:
    async def effect() -> None:
        seen.append(name)

    return effect


async def a_case(settings: Any) -> Case:
    case: Case = await file_and_consent(settings, NOW)
    return case


# --- after-commit effects ----------------------------------------------------------------------


async def test_effects_run_after_commit_in_order_and_see_the_committed_data(
    db: None, settings: Any
) -> None:
    case = await a_case(settings)
    seen: list[str] = []

    async def reads_the_new_title() -> None:
        seen.append((await Case.get(id=case.id)).triage.get("mark", ""))

    async with atomic():
        await Case.filter(id=case.id).update(triage={"mark": "written"})
        on_commit(recorder(seen, "first"))
        on_commit(reads_the_new_title)
        assert seen == []  # nothing runs before the commit
    assert seen == ["first", "written"]


async def test_a_rolled_back_transaction_runs_no_effect(db: None, settings: Any) -> None:
    case = await a_case(settings)
    seen: list[str] = []
    with pytest.raises(Boom):
        async with atomic():
            await Case.filter(id=case.id).update(triage={"mark": "lost"})
            on_commit(recorder(seen, "never"))
            raise Boom
    assert seen == []
    assert (await Case.get(id=case.id)).triage.get("mark") != "lost"


async def test_nested_effects_wait_for_the_outermost_commit(db: None, settings: Any) -> None:
    await a_case(settings)
    seen: list[str] = []
    async with atomic():
        async with atomic():
            on_commit(recorder(seen, "inner"))
        assert seen == []  # the savepoint is released, the transaction is still open
        with pytest.raises(Boom):
            async with atomic():
                on_commit(recorder(seen, "rolled back savepoint"))
                raise Boom
        on_commit(recorder(seen, "outer"))
    assert seen == ["inner", "outer"]


async def test_an_outer_rollback_drops_the_nested_effects(db: None, settings: Any) -> None:
    await a_case(settings)
    seen: list[str] = []
    with pytest.raises(Boom):
        async with atomic():
            async with atomic():
                on_commit(recorder(seen, "inner"))
            raise Boom
    assert seen == []


async def test_a_failing_effect_is_logged_and_the_next_ones_still_run(
    db: None, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    await a_case(settings)
    seen: list[str] = []

    async def fails() -> None:
        raise RuntimeError("the room is gone")

    async with atomic():
        on_commit(fails)
        on_commit(recorder(seen, "after"))
    assert seen == ["after"]
    assert "after-commit effect" in caplog.text and "the room is gone" in caplog.text


def test_on_commit_outside_a_transaction_is_refused() -> None:
    with pytest.raises(RuntimeError, match="outside atomic"):
        on_commit(recorder([], "never"))


# --- lock_case ---------------------------------------------------------------------------------


async def test_lock_case_outside_a_transaction_is_refused(db: None, settings: Any) -> None:
    case = await a_case(settings)
    with pytest.raises(RuntimeError, match="outside a transaction"):
        await lock_case(case.id)


async def test_lock_case_reads_the_case_only_when_it_matches(db: None, settings: Any) -> None:
    case = await a_case(settings)
    async with atomic():
        locked = await lock_case(case.id, status=case.status)
        assert locked is not None and locked.number == case.number
        assert await lock_case(case.id, status=Status.DOCKETED) is None
        assert await lock_case(case.id + 1000) is None
        with pytest.raises(Exception, match="does not exist"):
            await locked_case(case.id + 1000)
    assert (await Case.get(id=case.id)).number == case.number  # the no-op write changed nothing


def _run_two_workers(url: str, case_id: int, mode: str) -> list[tuple[int, list[str], str]]:
    """Two processes, each adding one to the case's counter with a 1.5 s pause between its
    read and its write, started at the same moment: (exit code, output lines, errors)."""
    command = [sys.executable, "-m", "tests.support.lock_worker", url, str(case_id), "1.5", mode]
    workers = [
        subprocess.Popen(
            command,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        outputs = [worker.communicate(timeout=60) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    return [
        (worker.returncode, [line for line in out.split("\n") if line], err)
        for worker, (out, err) in zip(workers, outputs, strict=True)
    ]


@pytest.mark.parametrize("mode", ["locked", "unlocked"])
async def test_lock_case_serialises_two_processes(
    db: None, settings: Any, database_url: str, mode: str
) -> None:
    """With lock_case the second process reads only after the first committed, and both
    increments count; the unlocked control shows what the lock prevents (a lost update), so
    this test can tell the two apart on either database."""
    case = await a_case(settings)
    results = _run_two_workers(database_url, case.id, mode)
    final = (await Case.get(id=case.id)).triage.get("lock_test_count")
    if mode == "unlocked":
        # Without the lock the second read comes before the first commit: PostgreSQL loses
        # one increment; SQLite refuses the second write ("database is locked", the reader
        # cannot become a writer after another's commit). Either way, not both counted.
        failed = [err for code, _, err in results if code != 0]
        assert final == 1
        assert failed == [] or (len(failed) == 1 and "database is locked" in failed[0])
        return
    assert [code for code, _, _ in results] == [0, 0], results
    assert final == 2
    reads = sorted((float(out[0].split()[2]), int(out[0].split()[1])) for _, out, _ in results)
    (first_read, first_count), (second_read, second_count) = reads
    assert (first_count, second_count) == (0, 1)  # the second read the first's committed write
    # ... because it waited: the first held the lock for 1.5 s after its read. (The first's
    # own "done" time is no bound: the database may release the second before the first
    # process has even seen its COMMIT answered.)
    assert second_read - first_read >= 1.4


# --- one way to open a transaction -------------------------------------------------------------


def test_the_platform_opens_transactions_only_through_atomic() -> None:
    """An `in_transaction()` beside `atomic()` would run after-commit effects registered
    inside it before the outer transaction commits; the platform's packages use atomic()."""
    offenders = []
    for package in ("cases", "mediation", "seeds"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "cases" / "transactions.py" or "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module == "tortoise.transactions":
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
