"""The room writer survives its database going away: once the database is back after its
connection died in the middle of a batch, the writer stores messages again. (The ORM's
`in_transaction()` left the writer's task pointed at a dead connection when a cut came
between taking a connection and beginning the transaction: after that, the process never
stored a message again.)

Needs PostgreSQL: the cut is a TCP proxy in front of the database server, and SQLite has no
server; on SQLite this test is deselected
(marker `postgres_only`; the run says how many) and runs in the PostgreSQL run of the suite.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from realtime.protocol import Kind, Participant, Post
from realtime.store import Writer, ensure_rooms
from tests.support.rooms import new_client_id, orm
from tests.support.tcp_proxy import TcpProxy, run_tcp_proxy

# Needs PostgreSQL (the fault is a cut between the writer and a database server).
pytestmark = pytest.mark.postgres_only

SPEAKER = Participant(1, "调解员 王", True, None)


async def _nothing(session_id: int, room: str, messages: list[object]) -> None:
    return None


def _post(text: str) -> Post:
    return Post("joint", new_client_id("w"), Kind.MESSAGE, {"text": text})


def test_the_writer_stores_again_after_its_database_connection_died_mid_batch(
    database_url: str, tmp_path: Path
) -> None:
    """The connection dies once the writer has taken it from the pool and is beginning its
    transaction (the proxy holds the statement, then cuts the wire)."""
    parts = urlsplit(database_url)

    async def scenario() -> None:
        with run_tcp_proxy(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
            user = f"{parts.username}@" if parts.username else ""
            through = parts._replace(netloc=f"{user}127.0.0.1:{proxy.port}").geturl()
            async with orm(through):
                await ensure_rooms(1)
                writer = Writer(_nothing)
                writer.start()
                try:
                    assert (await writer.append(1, SPEAKER, _post("开始"))).seq == 1
                    proxy.hold()
                    lost = asyncio.create_task(writer.append(1, SPEAKER, _post("断了")))
                    await asyncio.sleep(0.3)
                    assert not lost.done(), "the batch should be waiting for the database"
                    proxy.cut(0.2)
                    with pytest.raises(Exception):  # noqa: B017 (whatever the driver raises)
                        await asyncio.wait_for(lost, 10)
                    proxy.flow()
                    await asyncio.sleep(0.3)
                    # The database is back: the writer stores again.
                    for number in range(3):
                        stored = await asyncio.wait_for(
                            writer.append(1, SPEAKER, _post(f"好了 {number}")), 10
                        )
                        assert stored.seq == 2 + number
                finally:
                    await writer.stop()

    asyncio.run(scenario())


def test_the_background_jobs_work_again_after_a_round_lost_its_database(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same fault under the background jobs (one long-lived loop, like the writer): a
    round whose transaction loses its connection as it begins fails, and the next rounds,
    once the database is back, work again."""
    import mediation.app
    from mediation.notify import Notifier
    from mediation.settings import Settings

    parts = urlsplit(database_url)
    done: list[int] = []
    cutting: list[TcpProxy] = []  # the proxy, once a round is to lose its database
    worked, taken = asyncio.Event(), asyncio.Event()

    async def first_step(now: object) -> None:  # a step beginning with a transaction
        from tortoise.transactions import in_transaction

        if cutting:  # this round's transaction waits at its beginning, then the wire is cut
            proxy = cutting.pop()
            taken.set()
            proxy.hold()
            asyncio.get_running_loop().call_later(0.3, proxy.cut, 0.2)
        async with in_transaction() as db:
            await db.execute_query("SELECT 1")
        done.append(1)
        worked.set()

    monkeypatch.setattr(mediation.app, "do_end_unanswered_invitations", first_step)

    async def scenario() -> None:
        with run_tcp_proxy(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
            user = f"{parts.username}@" if parts.username else ""
            through = parts._replace(netloc=f"{user}127.0.0.1:{proxy.port}").geturl()
            settings = Settings(
                database_url=through,
                secret_key="test-secret-key-not-for-production",
                data_dir=tmp_path / "data",
                smtp_host="127.0.0.1",
                smtp_port=1,
            )
            notifier = Notifier.from_settings(settings)
            async with orm(through):
                jobs = asyncio.create_task(
                    mediation.app.run_background_jobs(notifier, 0.1, settings)
                )
                try:
                    await asyncio.wait_for(worked.wait(), 10)
                    cutting.append(proxy)
                    await asyncio.wait_for(taken.wait(), 10)
                    await asyncio.sleep(0.8)  # held 0.3 s, cut 0.2 s
                    proxy.flow()
                    before = len(done)
                    await asyncio.sleep(2)
                    assert len(done) > before, "no round has worked since the database came back"
                finally:
                    jobs.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await jobs

    asyncio.run(scenario())
