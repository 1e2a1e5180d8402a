"""Ending mediation and going to the court, through the actions on a real database: the
Art. 21 record, the transfer and the joint confirmation application with their pre-check,
the package built from the database through the privilege filter, the transactional outbox
and the relay against a receiver in another process."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lxml import etree

from cases.access import Viewer
from cases.court.actions import (
    PrecheckBlocked,
    access_court_link,
    do_join_confirmation,
    do_request_transfer,
)
from cases.court.handoff import deliver_due, export_filing
from cases.court.privilege import PrivilegeError
from cases.endings.actions import NotAllowed, OutcomeInvalid, do_end_mediation
from cases.endings.models import EndRecord
from cases.errors import CaseConflict, CaseNotFound
from cases.models import (
    Case,
    CourtFiling,
    FilingKind,
    FilingStatus,
    Notice,
    OutboxMessage,
    OutboxStatus,
    TimelineEvent,
)
from cases.status import Status
from courtwire import ecf
from courtwire.evidence_links import read_link_token
from mediation.settings import Settings
from tests.support import court_world as w
from tests.support.fake_desk import FakeDesk, run_fake_desk
from tests.support.rooms import cheap_hashing

MAX_AGE = timedelta(days=30)

FAILED = {
    "ending": "failed",
    "undisputed_facts": w.UNDISPUTED,
    "reasons_for_failure": w.REASONS,
    "cost_raising_conduct": w.COSTS,
}


def viewer(world: w.CourtWorld, who: str) -> Viewer:
    role = "mediator" if who == "mediator" else "disputant"
    return Viewer(world.user_ids[who], role)


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
async def world(db: None, settings: Settings) -> w.CourtWorld:
    with cheap_hashing():
        return await w.build_court_world(settings)


async def failed(world: w.CourtWorld) -> None:
    await do_end_mediation(viewer(world, "mediator"), world.case_number, FAILED, now())


async def counts() -> dict[str, int]:
    return {
        "filings": await CourtFiling.all().count(),
        "outbox": await OutboxMessage.all().count(),
        "end_records": await EndRecord.all().count(),
        "notices": await Notice.all().count(),
        "events": await TimelineEvent.all().count(),
    }


# --- ending mediation ---------------------------------------------------------------------------


async def test_the_mediator_ends_a_failed_mediation_with_the_record(world: w.CourtWorld) -> None:
    seen = set(await Notice.all().values_list("id", flat=True))
    await failed(world)
    case = await Case.get(id=world.case_id)
    assert case.status == Status.FAILED
    assert case.mediation_ended_at is not None
    record = await EndRecord.get(case=case)
    assert (record.ending, record.undisputed_facts, record.reasons_for_failure) == (
        Status.FAILED,
        w.UNDISPUTED,
        w.REASONS,
    )
    assert record.other_routes == ["litigation", "arbitration", "administrative"]
    assert record.recorded_by_id == world.user_ids["mediator"]
    # Each party is told, by each channel they gave, of their other routes (PML Art. 26).
    notices = [n for n in await Notice.filter(case=case) if n.id not in seen]
    assert {n.recipient for n in notices} >= {"zhangsan@example.com", "13812345678"}
    assert all("第二十六条" in n.body and "仲裁" in n.body for n in notices)


async def test_a_withdrawal_needs_the_side(world: w.CourtWorld) -> None:
    before = await counts()
    with pytest.raises(OutcomeInvalid) as caught:
        await do_end_mediation(
            viewer(world, "mediator"), world.case_number, {"ending": "withdrawn"}, now()
        )
    assert caught.value.field_errors == {"withdrawn_by": "choose_one"}
    assert await counts() == before
    await do_end_mediation(
        viewer(world, "mediator"),
        world.case_number,
        {"ending": "withdrawn", "withdrawn_by": "respondent"},
        now(),
    )
    case = await Case.get(id=world.case_id)
    assert case.status == Status.WITHDRAWN
    change = await TimelineEvent.filter(case=case, kind="status_changed").order_by("-id").first()
    assert change is not None and change.data["withdrawn_by"] == "respondent"


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        (
            {},
            {
                "ending": "choose_one",
                "undisputed_facts": "required",
                "reasons_for_failure": "required",
            },
        ),
        ({**FAILED, "ending": "settled"}, {"ending": "choose_one"}),
        (
            {"ending": "failed"},
            {"undisputed_facts": "required", "reasons_for_failure": "required"},
        ),
        (
            {**FAILED, "cost_raising_conduct": "长" * 5001},
            {"cost_raising_conduct": "too_long"},
        ),
    ],
)
async def test_a_bad_end_form_changes_nothing(
    world: w.CourtWorld, values: dict[str, str], errors: dict[str, str]
) -> None:
    before = await counts()
    with pytest.raises(OutcomeInvalid) as caught:
        await do_end_mediation(viewer(world, "mediator"), world.case_number, values, now())
    assert caught.value.field_errors == errors
    assert await counts() == before
    assert (await Case.get(id=world.case_id)).status == Status.IN_MEDIATION


async def test_only_the_cases_mediator_ends_it(world: w.CourtWorld) -> None:
    with pytest.raises(NotAllowed):
        await do_end_mediation(viewer(world, "applicant"), world.case_number, FAILED, now())
    with pytest.raises(CaseNotFound):
        await do_end_mediation(viewer(world, "outsider"), world.case_number, FAILED, now())
    with pytest.raises(CaseNotFound):
        await do_end_mediation(
            Viewer(world.user_ids["mediator"], "mediator"), world.other_case_number, FAILED, now()
        )


async def test_a_time_out_leaves_a_record_the_mediator_completes(
    world: w.CourtWorld, settings: Settings
) -> None:
    from cases.deadlines.actions import do_open_deadline
    from cases.deadlines.rules import Regime
    from cases.endings.actions import do_time_out_overdue_mediations

    case = await Case.get(id=world.case_id)
    started = now() - timedelta(days=60)
    await do_open_deadline(case, Regime.ONLINE_MEDIATION, started.date(), started)
    assert await do_time_out_overdue_mediations(now()) == [case.number]
    record = await EndRecord.get(case=case)
    assert (record.ending, record.undisputed_facts) == (Status.TIMED_OUT, "")
    # Until it is complete the applicant cannot transfer.
    with pytest.raises(PrecheckBlocked) as caught:
        await do_request_transfer(viewer(world, "applicant"), case.number, settings, now())
    assert caught.value.precheck.codes()[0] == "end_record_incomplete"
    with pytest.raises(OutcomeInvalid):
        await do_end_mediation(viewer(world, "mediator"), case.number, {}, now())
    await do_end_mediation(viewer(world, "mediator"), case.number, FAILED, now())
    record = await EndRecord.get(case=case)
    # The ending stays what happened; the three Art. 21 parts are filled in.
    assert (record.ending, record.undisputed_facts) == (Status.TIMED_OUT, w.UNDISPUTED)
    assert (await Case.get(id=case.id)).status == Status.TIMED_OUT


# --- transfer to litigation ---------------------------------------------------------------------


async def test_transfer_queues_filing_and_outbox_with_the_case_change(
    world: w.CourtWorld, settings: Settings
) -> None:
    await failed(world)
    filing = await do_request_transfer(
        viewer(world, "applicant"), world.case_number, settings, now()
    )
    case = await Case.get(id=world.case_id)
    assert case.status == Status.TRANSFERRED
    stored = await CourtFiling.get(id=filing.id)
    assert (stored.kind, stored.status, list(stored.applicants)) == (
        FilingKind.TRANSFER,
        FilingStatus.QUEUED,
        ["applicant"],
    )
    row = await OutboxMessage.get(filing=stored)
    assert (row.msg_id, row.status, row.path, row.destination) == (
        stored.filing_id,
        OutboxStatus.PENDING,
        "/api/v1/filings",
        "court",
    )
    assert row.content_type == "application/cloudevents+json"
    event = json.loads(row.body)
    assert stored.payload_sha256 and len(stored.payload_sha256) == 64
    assert event["id"] == stored.filing_id
    assert event["type"] == "cn.changning.mediation.court.transfer.v1"
    assert event["subject"] == world.case_number
    data = event["data"]
    assert data["kind"] == "transfer" and data["applicants"] == ["applicant"]
    assert data["corrects"] is None
    assert data["failure"] == {
        "undisputed_facts": w.UNDISPUTED,
        "reasons_for_failure": w.REASONS,
        "cost_raising_conduct": w.COSTS,
    }
    assert data["agreement"] is None
    assert data["precheck"]["ok"] is True
    assert {p["side"] for p in data["parties"]} == {"applicant", "respondent"}
    # Evidence crosses as capability links bound to this filing and each item's digest.
    assert {e["filename"]: e["sha256"] for e in data["evidence"]} == world.evidence
    for item in data["evidence"]:
        # A path, resolved by the desk against its PLATFORM_URL: no host frozen in the package.
        assert item["url"].startswith("/court/evidence/")
        link = read_link_token(
            settings.secret_key, item["url"].rsplit("/", 1)[1], max_age=MAX_AGE, now=now()
        )
        assert link is not None
        assert (link.filing_id, link.sha256) == (stored.filing_id, item["sha256"])
    # A second request is refused: the case has moved on.
    with pytest.raises(CaseConflict):
        await do_request_transfer(viewer(world, "applicant"), world.case_number, settings, now())


async def test_only_the_applicant_asks_for_a_transfer(
    world: w.CourtWorld, settings: Settings
) -> None:
    await failed(world)
    before = await counts()
    with pytest.raises(NotAllowed):
        await do_request_transfer(viewer(world, "respondent"), world.case_number, settings, now())
    with pytest.raises(NotAllowed):
        await do_request_transfer(viewer(world, "mediator"), world.case_number, settings, now())
    with pytest.raises(CaseNotFound):
        await do_request_transfer(viewer(world, "outsider"), world.case_number, settings, now())
    assert await counts() == before


async def test_no_transfer_while_mediation_runs(world: w.CourtWorld, settings: Settings) -> None:
    with pytest.raises(CaseConflict):
        await do_request_transfer(viewer(world, "applicant"), world.case_number, settings, now())
    assert await CourtFiling.all().count() == 0


# --- the privilege filter through the database builder ------------------------------------------


def assert_no_privileged_text(text: str) -> None:
    leaked = [p for p in w.PRIVILEGED if p in text]
    assert leaked == [], leaked


async def test_no_caucus_concession_or_offer_reaches_either_wire_format(
    world: w.CourtWorld, settings: Settings
) -> None:
    from realtime.models import RoomMessage

    # The rooms really hold all three (stored through realtime's writer).
    rows = await RoomMessage.filter(session_id=world.session_id)
    assert any(r.room.startswith("caucus:") for r in rows)
    assert any(r.concession for r in rows)
    assert any(r.kind in ("offer", "offer_response") for r in rows)
    await failed(world)
    await do_request_transfer(viewer(world, "applicant"), world.case_number, settings, now())
    row = await OutboxMessage.get()
    assert_no_privileged_text(row.body)
    # The joint room's ordinary talk is not in the package either: the rooms add nothing.
    assert w.JOINT_TEXT not in row.body
    ecf_export = await export_filing(world.case_number, "ecf", settings, now())
    assert_no_privileged_text(ecf_export.body)
    root = etree.fromstring(ecf_export.body.encode("utf-8"))
    assert ecf.core_filing_validator().validate(root), ecf.core_filing_validator().error_log


async def test_a_failure_record_that_repeats_a_concession_is_never_queued(
    world: w.CourtWorld, settings: Settings
) -> None:
    leaky = {**FAILED, "undisputed_facts": f"{w.UNDISPUTED}被申请人称：{w.CONCESSION_RESPONDENT}"}
    await do_end_mediation(viewer(world, "mediator"), world.case_number, leaky, now())
    before = await counts()
    with pytest.raises(PrivilegeError):
        await do_request_transfer(viewer(world, "applicant"), world.case_number, settings, now())
    # One transaction: no filing, no outbox row, and the case did not move.
    assert await counts() == before
    assert (await Case.get(id=world.case_id)).status == Status.FAILED


# --- judicial confirmation ----------------------------------------------------------------------


async def test_joint_confirmation_first_waits_second_sends(
    world: w.CourtWorld, settings: Settings
) -> None:
    version_id = await w.make_effective_agreement(settings, world)
    first = await do_join_confirmation(
        viewer(world, "respondent"), world.case_number, settings, now()
    )
    assert first.status == FilingStatus.AWAITING_PARTIES
    assert list(first.applicants) == ["respondent"]
    assert (await Case.get(id=world.case_id)).status == Status.SETTLED
    assert await OutboxMessage.all().count() == 0
    with pytest.raises(CaseConflict) as again:
        await do_join_confirmation(viewer(world, "respondent"), world.case_number, settings, now())
    assert again.value.code == "already_applied"
    second = await do_join_confirmation(
        viewer(world, "applicant"), world.case_number, settings, now()
    )
    assert second.id == first.id
    stored = await CourtFiling.get(id=first.id)
    assert stored.status == FilingStatus.QUEUED
    assert set(stored.applicants) == {"applicant", "respondent"}
    assert (await Case.get(id=world.case_id)).status == Status.CONFIRMATION_REQUESTED
    row = await OutboxMessage.get(filing=stored)
    data = json.loads(row.body)["data"]
    assert data["kind"] == "confirmation"
    assert data["applicants"] == ["applicant", "respondent"]
    from cases.agreements.models import AgreementVersion

    version = await AgreementVersion.get(id=version_id)
    assert data["agreement"]["text"] == version.text
    assert data["agreement"]["sha256"] == version.sha256
    assert data["agreement"]["pdf_sha256"] == version.pdf_sha256
    token = data["agreement"]["pdf_url"].rsplit("/", 1)[1]
    link = read_link_token(settings.secret_key, token, max_age=MAX_AGE, now=now())
    assert link is not None and link.kind == "agreement_pdf"
    served = await access_court_link(link)
    assert served.media_type == "application/pdf"
    assert data["failure"] is None
    assert data["precheck"]["ok"] is True
    assert_no_privileged_text(row.body)


@pytest.mark.parametrize(
    ("agreement", "code"),
    [
        ({"effective_at": datetime.now(UTC) - timedelta(days=45)}, "confirmation_deadline_passed"),
        ({"signers": ("applicant", "mediator")}, "signature_missing"),
        (
            {
                "terms": [
                    {
                        "text": "确认涉案房屋的所有权归申请人。",
                        "obligor_side": "respondent",
                        "amount": None,
                        "manner": "书面",
                        "due_on": "2027-01-10",
                    }
                ]
            },
            "ownership_confirmation",
        ),
        (
            {
                "terms": [
                    {
                        "text": "被申请人赔偿申请人损失。",
                        "obligor_side": "respondent",
                        "amount": None,
                        "manner": "转账",
                        "due_on": "2027-01-10",
                    }
                ]
            },
            "term_amount_unclear",
        ),
    ],
)
async def test_a_blocked_precheck_stores_and_sends_nothing(
    world: w.CourtWorld, settings: Settings, agreement: dict[str, Any], code: str
) -> None:
    await w.make_effective_agreement(settings, world, **agreement)
    before = await counts()
    with pytest.raises(PrecheckBlocked) as caught:
        await do_join_confirmation(viewer(world, "applicant"), world.case_number, settings, now())
    assert code in [f.code for f in caught.value.precheck.blocking]
    assert await counts() == before
    assert (await Case.get(id=world.case_id)).status == Status.SETTLED


async def test_property_transfer_needs_proof_chosen_from_the_case(
    world: w.CourtWorld, settings: Settings
) -> None:
    from cases.models import Evidence

    terms = [
        {
            "text": "被申请人将沪A12345车辆过户至申请人名下。",
            "obligor_side": "respondent",
            "amount": None,
            "manner": "车辆管理所办理",
            "due_on": "2027-01-10",
        }
    ]
    await w.make_effective_agreement(settings, world, terms=terms)
    other_case = await Case.get(number=world.other_case_number)
    foreign = await Evidence.get(case=other_case)
    # Another case's evidence is not proof here.
    with pytest.raises(PrecheckBlocked) as caught:
        await do_join_confirmation(
            viewer(world, "applicant"),
            world.case_number,
            settings,
            now(),
            property_proof_ids=[foreign.id],
        )
    assert caught.value.precheck.codes() == ["property_proof_missing"]
    own = await Evidence.filter(case_id=world.case_id).first()
    assert own is not None
    filing = await do_join_confirmation(
        viewer(world, "applicant"),
        world.case_number,
        settings,
        now(),
        property_proof_ids=[own.id],
    )
    assert filing.precheck["property_proof_evidence"] == [own.id]
    # The other party joins without choosing again: the proof already given counts.
    await do_join_confirmation(viewer(world, "respondent"), world.case_number, settings, now())
    assert (await Case.get(id=world.case_id)).status == Status.CONFIRMATION_REQUESTED


async def test_confirmation_only_for_parties_of_a_settled_case(
    world: w.CourtWorld, settings: Settings
) -> None:
    with pytest.raises(CaseConflict):
        await do_join_confirmation(viewer(world, "applicant"), world.case_number, settings, now())
    await w.make_effective_agreement(settings, world)
    with pytest.raises(NotAllowed):
        await do_join_confirmation(viewer(world, "mediator"), world.case_number, settings, now())
    with pytest.raises(CaseNotFound):
        await do_join_confirmation(viewer(world, "outsider"), world.case_number, settings, now())


# --- capability links ---------------------------------------------------------------------------


async def test_a_link_serves_only_its_filings_case(world: w.CourtWorld, settings: Settings) -> None:
    from courtwire.evidence_links import EvidenceLink

    await failed(world)
    filing = await do_request_transfer(
        viewer(world, "applicant"), world.case_number, settings, now()
    )
    sha = world.evidence["旅游合同.pdf"]
    served = await access_court_link(EvidenceLink(filing.filing_id, sha))
    assert (served.filename, served.sha256) == ("旅游合同.pdf", sha)
    # The other case's evidence, named in a link for this filing: not served.
    with pytest.raises(CaseNotFound):
        await access_court_link(EvidenceLink(filing.filing_id, world.other_evidence_sha256))
    with pytest.raises(CaseNotFound):
        await access_court_link(EvidenceLink("no-such-filing", sha))
    # No agreement PDF on a failed case.
    with pytest.raises(CaseNotFound):
        await access_court_link(EvidenceLink(filing.filing_id, sha, "agreement_pdf"))


# --- the relay, end to end with a receiver in another process -----------------------------------


@pytest.fixture(scope="module")
def desk_process() -> Iterator[FakeDesk]:
    from mediation.settings import Settings as S

    secret = S.__dataclass_fields__["court_filing_secret"].default
    assert isinstance(secret, str)
    with run_fake_desk(secret) as desk:
        yield desk


@pytest.fixture
async def desk(desk_process: FakeDesk) -> AsyncIterator[FakeDesk]:
    await desk_process.reset()
    yield desk_process


async def test_the_relay_delivers_and_the_filing_is_received(
    world: w.CourtWorld, settings: Settings, desk: FakeDesk
) -> None:
    await failed(world)
    filing = await do_request_transfer(
        viewer(world, "applicant"), world.case_number, settings, now()
    )
    to_desk = settings.with_(court_desk_url=desk.base_url)
    await desk.inject({"status": 503, "retry_after": 1})
    assert await deliver_due(now(), to_desk) == 0
    assert (await CourtFiling.get(id=filing.id)).status == FilingStatus.QUEUED
    assert await deliver_due(now() + timedelta(minutes=1), to_desk) == 1
    stored = await CourtFiling.get(id=filing.id)
    (received,) = await desk.received()
    assert stored.status == FilingStatus.RECEIVED
    assert stored.receipt_id and len(stored.receipt_id) == 32
    assert received["msg_id"] == filing.filing_id
    # The desk got exactly the body queued in the transaction.
    row = await OutboxMessage.get(filing=stored)
    assert received["body"] == row.body


# --- the contract: the desk's own reader takes what the platform sends ---------------------------


async def test_the_desk_reads_both_formats_the_platform_sends(
    world: w.CourtWorld, settings: Settings
) -> None:
    from courtdesk import wire as desk_wire

    await failed(world)
    filing = await do_request_transfer(
        viewer(world, "applicant"), world.case_number, settings, now()
    )
    row = await OutboxMessage.get(filing=filing)
    read = desk_wire.read_cloudevent(row.body.encode("utf-8"), filing.filing_id)
    assert (read.kind, read.wire_format) == ("transfer", "json")
    assert read.package["failure"]["undisputed_facts"] == w.UNDISPUTED
    xml = await export_filing(world.case_number, "ecf", settings, now())
    read = desk_wire.read_core_filing(
        xml.body.encode("utf-8"), filing.filing_id, ecf.core_filing_validator()
    )
    assert read.kind == "transfer"
    assert {item["sha256"]: bool(item["url"]) for item in read.package["evidence"]} == {
        sha: True for sha in world.evidence.values()
    }


async def test_the_desk_reads_a_joint_confirmation(world: w.CourtWorld, settings: Settings) -> None:
    from courtdesk import wire as desk_wire

    await w.make_effective_agreement(settings, world)
    for side in ("applicant", "respondent"):
        filing = await do_join_confirmation(viewer(world, side), world.case_number, settings, now())
    row = await OutboxMessage.get(filing=filing)
    read = desk_wire.read_cloudevent(row.body.encode("utf-8"), filing.filing_id)
    assert read.kind == "confirmation"
    assert read.package["precheck"] == {"ok": True, "findings": []}


# --- at the same time ---------------------------------------------------------------------------


async def test_both_parties_joining_at_once_send_one_filing(
    world: w.CourtWorld, settings: Settings
) -> None:
    """Proves the case row's lock in `do_join_confirmation` on PostgreSQL only: each party
    is held after reading the pending filing (`join_confirmation`), so without the lock both
    see none and each creates a filing waiting for the other, every time. On SQLite one
    transaction runs at a time: it checks the outcome."""
    import asyncio

    from tests.support.concurrency import rendezvous

    await w.make_effective_agreement(settings, world)
    with rendezvous("join_confirmation"):
        results = await asyncio.gather(
            *(
                do_join_confirmation(viewer(world, side), world.case_number, settings, now())
                for side in ("applicant", "respondent")
            ),
            return_exceptions=True,
        )
    assert not [r for r in results if isinstance(r, BaseException)], results
    (filing,) = await CourtFiling.all()
    assert filing.status == FilingStatus.QUEUED
    assert set(filing.applicants) == {"applicant", "respondent"}
    assert await OutboxMessage.all().count() == 1
    assert (await Case.get(id=world.case_id)).status == Status.CONFIRMATION_REQUESTED


async def test_the_same_decision_delivered_twice_at_once_applies_once(
    world: w.CourtWorld, settings: Settings
) -> None:
    import asyncio

    from cases.court.callbacks import CourtDecision, do_apply_court_decision
    from cases.models import CourtCallback

    await failed(world)
    filing = await do_request_transfer(
        viewer(world, "applicant"), world.case_number, settings, now()
    )
    decision = CourtDecision(
        filing_id=filing.filing_id,
        status=FilingStatus.DOCKETED,
        decided_at=now(),
        event_type="cn.court.filing.docketed.v1",
        payload={},
        court_case_number="(2026)沪0105民初5号",
    )
    # Proves the webhook id's unique claim on PostgreSQL only (SQLite runs one transaction
    # at a time per process): each delivery is held after keeping the callback
    # (`court_callback`), so without the claim all three keep it, every time.
    from tests.support.concurrency import rendezvous

    with rendezvous("court_callback", parties=3):
        results = await asyncio.gather(
            *(do_apply_court_decision("cb-same", decision, now()) for _ in range(3))
        )
    assert sorted(r.applied for r in results) == [False, False, True]
    assert await CourtCallback.all().count() == 1
    assert (await Case.get(id=world.case_id)).status == Status.DOCKETED
    changes = await TimelineEvent.filter(case_id=world.case_id, kind="status_changed")
    assert [e.data["status"] for e in changes].count(["transferred", "docketed"]) == 1
