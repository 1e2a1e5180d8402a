"""The court handoff when the network and the processes misbehave.

Four processes: the platform's web server (evidence links, callbacks), the platform's relay
(`mediation jobs`, so it can be killed on its own), the court desk, and this test, which
plays the clerk over HTTP. A fault proxy stands on each wire. Five failed mediations are
transferred; on their way:

- the desk is down (the relay's first attempts are refused at the TCP level);
- the desk commits a filing but the answer never comes (the relay times out);
- the desk commits a filing but the answer is a 500;
- the relay process is killed after the desk committed, before it marked the row delivered
  (a new relay process takes the row over when the dead one's claim runs out);
- the desk's callbacks arrive twice, and one arrives after the decision that followed it.

Afterwards every transfer is docketed exactly once, the platform agrees with the desk on
every 案号, no case moved backwards, and every outbox row on both sides is delivered or
dead-lettered: none is left pending.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from cases.access import Viewer
from cases.court.actions import do_request_transfer
from cases.endings.actions import do_end_mediation
from cases.endings.models import EndRecord
from cases.models import (
    Case,
    CourtCallback,
    CourtFiling,
    Evidence,
    FilingStatus,
    OutboxMessage,
    OutboxStatus,
    Party,
)
from cases.status import Status
from courtdesk.models import Decision as DeskDecision
from courtdesk.models import Filing as DeskFiling
from courtdesk.models import OutboxMessage as DeskOutbox
from mediation.settings import Settings
from tests.courtdesk.support import (
    CALLBACK_SECRET,
    FILING_SECRET,
    csrf_of,
    make_clerk,
    run_desk,
    signed_in_client,
    with_desk_orm,
)
from tests.courtdesk.support import wait_for as wait_for_in_another_process
from tests.support import court_world as w
from tests.support.fault_proxy import Fault, run_fault_proxy
from tests.support.live_server import free_port, run_server, run_with_orm, stop_process
from tests.support.rooms import cheap_hashing

T = TypeVar("T")
CASES = 5
RELAY_TIMEOUT = 2.0  # seconds: the proxy's "hang" outlasts it
RELAY_LEASE = 5.0  # seconds: how long a killed relay's claim blocks its row
WAIT = 90.0
MEDIATION = [sys.executable, "-c", "import sys; from mediation.cli import main; sys.exit(main())"]


wait_for = partial(wait_for_in_another_process, timeout=WAIT)


def _columns(row: Any, *leave_out: str) -> dict[str, Any]:
    return {f: getattr(row, f) for f in row._meta.db_fields if f not in ("id", *leave_out)}


async def _failed_copies(world: w.CourtWorld, count: int) -> list[str]:
    """More cases like the world's, in mediation with the same parties and evidence."""
    source = await Case.get(id=world.case_id)
    numbers = []
    for n in range(1, count + 1):
        fields = _columns(source, "number", "partner_reference")
        copy = await Case.create(**fields, number=f"CNM-2026-T-{90000 + n}")
        for party in await Party.filter(case_id=source.id):
            await Party.create(
                **{
                    f: getattr(party, f)
                    for f in party._meta.db_fields
                    if f not in ("id", "case_id")
                },
                case_id=copy.id,
            )
        for item in await Evidence.filter(case_id=source.id):
            await Evidence.create(**_columns(item, "case_id"), case_id=copy.id)
        numbers.append(copy.number)
    return numbers


@contextmanager
def relay_process(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`mediation jobs`: the platform's background jobs, court relay included, on their own."""
    with log.open("ab") as output:
        process = subprocess.Popen(
            [*MEDIATION, "jobs", "--interval", "0.3"],
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            stop_process(process)


def _platform_outbox(database_url: str) -> list[tuple[str, str, int, str]]:
    async def probe() -> list[tuple[str, str, int, str]]:
        rows = await OutboxMessage.all().order_by("id")
        return [(r.msg_id, str(r.status), r.attempts, r.last_error) for r in rows]

    return run_with_orm(database_url, probe)


def _platform_filings(database_url: str) -> dict[str, tuple[str, str | None, str]]:
    async def probe() -> dict[str, tuple[str, str | None, str]]:
        found = {}
        for filing in await CourtFiling.all():
            case = await Case.get(id=filing.case_id)
            found[filing.filing_id] = (str(filing.status), filing.court_case_number, case.status)
        return found

    return run_with_orm(database_url, probe)


def _desk_state(desk_url: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any]:
        filings = {
            f.filing_id: (str(f.status), f.court_case_number, f.docket_serial)
            for f in await DeskFiling.all()
        }
        decisions = [
            (d.filing_id, str(d.action), d.court_case_number)
            for d in await DeskDecision.all().order_by("id")
        ]
        outbox = [(r.msg_id, str(r.status)) for r in await DeskOutbox.all()]
        return {"filings": filings, "decisions": decisions, "outbox": outbox}

    return with_desk_orm(desk_url, probe)


def test_every_transfer_is_docketed_once_through_faults(
    settings: Settings, database_url: str, desk_database_url: str, tmp_path: Path
) -> None:
    platform_port, desk_proxy_port = free_port(), free_port()
    platform_url = f"http://127.0.0.1:{platform_port}"
    desk_proxy_url = f"http://127.0.0.1:{desk_proxy_port}"
    platform_settings = settings.with_(
        base_url=platform_url,
        court_desk_url=desk_proxy_url,
        court_filing_secret=FILING_SECRET,
        court_callback_secret=CALLBACK_SECRET,
    )

    # --- five failed mediations, transferred (their filings wait in the outbox) ---------
    async def transferred() -> list[str]:
        with cheap_hashing():
            world = await w.build_court_world(platform_settings)
        numbers = [world.case_number, *await _failed_copies(world, CASES - 1)]
        mediator = Viewer(world.user_ids["mediator"], "mediator")
        applicant = Viewer(world.user_ids["applicant"], "disputant")
        record = {
            "ending": "failed",
            "undisputed_facts": w.UNDISPUTED,
            "reasons_for_failure": w.REASONS,
            "cost_raising_conduct": w.COSTS,
        }
        filing_ids = []
        for n, number in enumerate(numbers):
            now = datetime.now(UTC)
            await do_end_mediation(mediator, number, record, now)
            # Both wire formats cross: one filing goes as ECF XML.
            filing = await do_request_transfer(
                applicant, number, platform_settings, now, wire_format="ecf" if n == 1 else None
            )
            filing_ids.append(filing.filing_id)
        assert await EndRecord.all().count() == CASES
        return filing_ids

    filing_ids = run_with_orm(database_url, transferred)
    make_clerk(desk_database_url)

    env = {
        "DATABASE_URL": database_url,
        "MEDIATION_DATA_DIR": str(settings.data_dir),
        "SECRET_KEY": settings.secret_key,
        "BASE_URL": platform_url,
        "COURT_DESK_URL": desk_proxy_url,
        "COURT_FILING_SECRET": FILING_SECRET,
        "COURT_CALLBACK_SECRET": CALLBACK_SECRET,
        "COURT_RELAY_TIMEOUT": str(RELAY_TIMEOUT),
        "COURT_RELAY_LEASE_SECONDS": str(RELAY_LEASE),
        "COURT_RELAY_RETRY_BASE_SECONDS": "1",
        "MEDIATION_BACKGROUND_JOBS": "0",  # the relay runs only in the process we can kill
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": "1",
    }
    relay_log = tmp_path / "relay.log"

    with (
        run_server(env, port=platform_port),
        run_fault_proxy(platform_url) as (callback_proxy_url, callbacks),
    ):
        relays: list[subprocess.Popen[bytes]] = []

        # --- the desk is down: the relay's attempts are refused, nothing is lost ----------
        with relay_process(env, relay_log) as first_relay:
            relays.append(first_relay)

            def refused_everywhere() -> bool | None:
                rows = _platform_outbox(database_url)
                tried = [r for r in rows if r[2] >= 1]
                return True if len(tried) == CASES else None

            wait_for("every filing tried while the desk is down", refused_everywhere)
            rows = _platform_outbox(database_url)
            assert all(status == OutboxStatus.PENDING for _, status, _, _ in rows)
            assert all("Connect" in error for _, _, _, error in rows), rows

            # --- the desk comes up behind a proxy that loses answers --------------------
            with (
                run_desk(desk_database_url, platform_url=callback_proxy_url) as desk,
                run_fault_proxy(desk.url, port=desk_proxy_port) as (_, filings_wire),
            ):

                def kill_relay() -> None:
                    os.kill(first_relay.pid, signal.SIGKILL)

                filings_wire.on_kill = kill_relay
                filings_wire.hang_seconds = RELAY_TIMEOUT * 3
                filings_wire.queue(
                    Fault.HANG_AFTER_COMMIT,  # committed, then the answer never comes
                    Fault.ERROR_AFTER_COMMIT,  # committed, then a 500
                    Fault.KILL_AFTER_COMMIT,  # committed, then the relay dies
                )
                wait_for(
                    "the relay to be killed",
                    lambda: True if first_relay.poll() is not None else None,
                )
                assert first_relay.returncode == -signal.SIGKILL

                # A new relay process: it takes over when the dead one's claim runs out.
                with relay_process(env, relay_log) as second_relay:
                    relays.append(second_relay)

                    def all_received() -> bool | None:
                        filings = _platform_filings(database_url)
                        done = all(s == FilingStatus.RECEIVED for s, _, _ in filings.values())
                        return True if done and len(filings) == CASES else None

                    wait_for("every filing received by the desk", all_received)

                    seen = {p.fault for p in filings_wire.seen()}
                    assert {
                        Fault.HANG_AFTER_COMMIT,
                        Fault.ERROR_AFTER_COMMIT,
                        Fault.KILL_AFTER_COMMIT,
                    } <= seen
                    # Each faulted filing reached the desk more than once; it holds one of each.
                    posts = [p for p in filings_wire.seen() if p.path == "/api/v1/filings"]
                    assert len(posts) > CASES
                    desk_state = _desk_state(desk_database_url)
                    assert sorted(desk_state["filings"]) == sorted(filing_ids)

                    # --- the clerk decides; the callbacks are duplicated and reordered ----
                    callbacks.queue(
                        Fault.DEFER,  # the first "accepted" arrives after its "docketed"
                        Fault.PASS,
                        Fault.DUPLICATE,
                        Fault.DUPLICATE,
                    )
                    with signed_in_client(desk) as clerk:
                        first = filing_ids[0]
                        for filing_id in filing_ids:
                            page = clerk.get(f"/filings/{filing_id}")
                            accepted = clerk.post(
                                f"/filings/{filing_id}/accept",
                                data={"csrf_token": csrf_of(page.text)},
                            )
                            assert accepted.status_code == 303, accepted.text
                            if filing_id == first:
                                # Make sure the "accepted" callback has met the proxy (and
                                # been held back) before the "docketed" one is made.
                                wait_for(
                                    "the held-back callback",
                                    lambda: True if callbacks.seen(Fault.DEFER) else None,
                                )
                            page = clerk.get(f"/filings/{filing_id}")
                            docketed = clerk.post(
                                f"/filings/{filing_id}/docket",
                                data={"csrf_token": csrf_of(page.text), "type_code": "民初"},
                            )
                            assert docketed.status_code == 303, docketed.text
                            # Docketing twice is refused: a filing is docketed at most once.
                            again = clerk.post(
                                f"/filings/{filing_id}/docket",
                                data={"csrf_token": csrf_of(page.text), "type_code": "民初"},
                            )
                            assert again.status_code in (200, 409), again.status_code

                    def all_docketed() -> dict[str, tuple[str, str | None, str]] | None:
                        filings = _platform_filings(database_url)
                        done = all(s == FilingStatus.DOCKETED for s, _, _ in filings.values())
                        return filings if done else None

                    platform_filings = wait_for("every case docketed on the platform", all_docketed)

                    def desk_outbox_settled() -> dict[str, Any] | None:
                        state = _desk_state(desk_database_url)
                        pending = [m for m, s in state["outbox"] if s == "pending"]
                        return state if not pending else None

                    desk_state = wait_for("the desk's callbacks all settled", desk_outbox_settled)

    # --- exactly once, and in agreement ----------------------------------------------------
    desk_filings = desk_state["filings"]
    numbers = [number for _, number, _ in desk_filings.values()]
    assert all(status == "docketed" for status, _, _ in desk_filings.values())
    assert len(set(numbers)) == CASES
    serials = sorted(serial for _, _, serial in desk_filings.values())
    assert serials == list(range(1, CASES + 1))  # gap-free, one number per filing
    dockets = [d for d in desk_state["decisions"] if d[1] == "docketed"]
    assert len(dockets) == CASES  # the second docket attempts changed nothing
    for filing_id, (status, court_number, case_status) in platform_filings.items():
        assert status == FilingStatus.DOCKETED
        assert case_status == Status.DOCKETED
        assert court_number == desk_filings[filing_id][1]
        assert court_number is not None
        assert re.fullmatch(r"\(\d{4}\)沪0105民初[1-9]\d*号", court_number)

    # Every outbox row on both sides is delivered or dead: nothing is left pending.
    platform_rows = _platform_outbox(database_url)
    assert len(platform_rows) == CASES
    assert {status for _, status, _, _ in platform_rows} <= {"delivered", "dead"}
    assert all(status == "delivered" for _, status, _, _ in platform_rows)
    assert {status for _, status in desk_state["outbox"]} <= {"delivered", "dead"}

    # The callbacks' faults happened, and the late and repeated ones changed nothing.
    assert callbacks.seen(Fault.DEFER) and callbacks.seen(Fault.DUPLICATE)

    async def callbacks_kept() -> tuple[int, int, list[str]]:
        rows = await CourtCallback.all()
        events = [
            row.event_type
            for row in await CourtCallback.filter(filing__filing_id=filing_ids[0]).order_by("id")
        ]
        return len(rows), sum(1 for r in rows if not r.applied), events

    kept, not_applied, first_events = run_with_orm(database_url, callbacks_kept)
    assert kept == 2 * CASES  # one row per decision, however often it arrived
    assert first_events.index(next(e for e in first_events if "docketed" in e)) < (
        first_events.index(next(e for e in first_events if "accepted" in e))
    ), first_events
    assert not_applied >= 1  # the late "accepted" was recorded and ignored
    assert relays[0].returncode == -signal.SIGKILL
