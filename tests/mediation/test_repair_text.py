"""Text stored before the doors checked it (issue 9, finding 1): the transcript is still made,
and `mediation repair-text` finds and repairs every bad string in every text and JSON column.

The bad rows are written by raw SQL, as the old doors let them in. Which characters a database
can hold at all differs: SQLite keeps a lone surrogate inside a JSON column (as the "\\ud800"
escape) and NUL in text; PostgreSQL refuses both (jsonb refuses the escapes, text NUL), but
keeps other control characters, which break the court's XML all the same."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tortoise import Tortoise

from cases.models import Party
from cases.sessions.actions import make_transcript
from cases.sessions.models import Transcript
from mediation.repair import do_repair_text
from mediation.settings import Settings
from mediation.web import record_reader
from realtime.models import RoomMessage
from realtime.text import is_storable
from tests.support.factories import file_and_consent, new_mediator, new_organisation
from tests.support.rooms import new_session

NOW = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)


def _postgres(settings: Settings) -> bool:
    return settings.database_url.startswith("postgres")


async def _bad_rows(settings: Settings) -> tuple[int, int, int]:
    """A case, a session with one clean and one bad joint-room message, and a bad party name;
    returns (session id, bad message id, party id)."""
    case = await file_and_consent(settings, NOW)
    organisation = await new_organisation("REPAIR")
    mediator = await new_mediator("repair-mediator", organisation.id)
    session_id = await new_session(case.id, mediator.id, timedelta(minutes=5))
    rows = [
        await RoomMessage.create(
            session_id=session_id,
            room="joint",
            seq=seq,
            sender_id=mediator.id,
            sender_name="调解员",
            kind="message",
            body={"text": text},
            client_id=f"repair-{seq:04d}",
            created_at=NOW,
        )
        for seq, text in ((1, "您好"), (2, "placeholder"))
    ]
    party = await Party.filter(case=case).first()
    assert party is not None
    db = Tortoise.get_connection("default")
    if _postgres(settings):
        await db.execute_query(
            "UPDATE room_message SET body = $1::jsonb WHERE id = $2",
            ['{"text":"坏\\u001b字"}', rows[1].id],
        )
        await db.execute_query("UPDATE party SET name = $1 WHERE id = $2", ["张\x07三", party.id])
    else:
        await db.execute_query(
            "UPDATE room_message SET body = ? WHERE id = ?", ['{"text":"坏\\ud800字"}', rows[1].id]
        )
        await db.execute_query("UPDATE party SET name = ? WHERE id = ?", ["张\x00三", party.id])
    return session_id, rows[1].id, party.id


async def test_a_transcript_is_made_over_a_bad_stored_string(db: None, settings: Settings) -> None:
    from cases.sessions.models import MediationSession

    session_id, message_id, _ = await _bad_rows(settings)
    stored = await RoomMessage.get(id=message_id)
    assert not is_storable(stored.body["text"])  # the bad row is really there

    transcript = await make_transcript(
        await MediationSession.get(id=session_id), NOW, reader=record_reader()
    )

    again = await Transcript.get(id=transcript.id)
    assert "坏\ufffd字" in again.text
    assert "您好" in again.text


async def test_repair_text_replaces_bad_characters_and_reports_counts(
    db: None, settings: Settings
) -> None:
    _, message_id, party_id = await _bad_rows(settings)

    counted = await do_repair_text(dry_run=True)
    assert counted == {"room_message.body": 1, "party.name": 1}
    assert not is_storable((await RoomMessage.get(id=message_id)).body["text"])  # untouched

    repaired = await do_repair_text()

    assert repaired == counted
    assert (await RoomMessage.get(id=message_id)).body == {"text": "坏\ufffd字"}
    assert (await Party.get(id=party_id)).name == "张\ufffd三"
    assert await do_repair_text() == {}


async def test_the_repair_text_command(db: None, settings: Settings, tmp_path: Path) -> None:
    _, message_id, _ = await _bad_rows(settings)
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "MEDIATION_DATA_DIR": str(tmp_path / "cli-data"),
    }
    command = [sys.executable, "-m", "mediation.cli", "repair-text"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    dry = await asyncio.to_thread(run, "--dry-run")
    done = await asyncio.to_thread(run)

    assert dry.returncode == 0, dry.stderr
    assert "room_message.body: 1" in dry.stdout
    assert "2 stored values found" in dry.stdout
    assert done.returncode == 0, done.stderr
    assert "2 stored values repaired" in done.stdout
    assert (await RoomMessage.get(id=message_id)).body == {"text": "坏\ufffd字"}
