"""One content, one evidence item per case: the pure rule, every way evidence is added, the
database's unique index, two uploads of one file at once, and migration 0011 merging the
duplicates filed before it."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from tortoise import Tortoise
from tortoise.exceptions import IntegrityError
from tortoise.migrations.api import migrate as run_migrations

import cases.actions
import cases.intake
import cases.journal
import cases.webhooks.models
from cases.access import Viewer
from cases.accounts.actions import do_register_disputant
from cases.accounts.models import Role, User
from cases.actions import Filer, Repeated, StoredEvidence, distinct_evidence, do_add_evidence
from cases.analytics.models import queue_for_figures
from cases.evidence_store import store_blob
from cases.intake import Upload, file_dispute
from cases.models import Case, CourtFiling, Evidence, FilingKind, FilingStatus, Side, TimelineEvent
from cases.sessions.models import MediationSession
from mediation.db import tortoise_config
from mediation.settings import Settings
from realtime.models import RoomMessage
from tests.support.concurrency import rendezvous
from tests.support.factories import (
    PDF_BYTES,
    PNG_BYTES,
    STAFF_PASSWORD,
    cheap_password_hashing,
    filing_fields,
)

NOW = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)
PDF_SHA = hashlib.sha256(PDF_BYTES).hexdigest()
PNG_SHA = hashlib.sha256(PNG_BYTES).hexdigest()


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


def item(name: str, sha: str) -> StoredEvidence:
    return StoredEvidence(name, "application/pdf", 10, sha)


@pytest.mark.parametrize(
    ("items", "already", "new", "repeated"),
    [
        pytest.param([], {}, [], [], id="nothing"),
        pytest.param([item("a", "1"), item("b", "2")], {}, ["a", "b"], [], id="distinct"),
        pytest.param(
            [item("a", "1"), item("a(1)", "1")], {}, ["a"], [Repeated("a(1)", "a")], id="twice"
        ),
        pytest.param(
            [item("a", "1"), item("b", "2")],
            {"1": "old"},
            ["b"],
            [Repeated("a", "old")],
            id="case-has-it",
        ),
        pytest.param(
            [item("x", "1"), item("y", "1"), item("z", "1")],
            {},
            ["x"],
            [Repeated("y", "x"), Repeated("z", "x")],
            id="three-times",
        ),
    ],
)
def test_distinct_evidence(
    items: list[StoredEvidence],
    already: dict[str, str],
    new: list[str],
    repeated: list[Repeated],
) -> None:
    kept, left_out = distinct_evidence(items, already)
    assert [k.filename for k in kept] == new
    assert left_out == repeated


async def applicant_case(settings: Settings, uploads: list[Upload]) -> tuple[Case, Viewer]:
    user = await do_register_disputant(
        identifier="13812345678", password=STAFF_PASSWORD, display_name="张三"
    )
    case = await file_dispute(settings, filing_fields(), uploads, Filer(user_id=user.id), NOW)
    return case, Viewer(user.id, str(Role.DISPUTANT))


async def test_the_database_refuses_a_second_row_of_one_content(
    db: None, settings: Settings
) -> None:
    case, _ = await applicant_case(settings, [Upload("合同.pdf", PDF_BYTES)])
    with pytest.raises(IntegrityError):
        await Evidence.create(
            case=case,
            side=Side.APPLICANT,
            filename="again.pdf",
            media_type="application/pdf",
            size=len(PDF_BYTES),
            sha256=PDF_SHA,
            created_at=NOW,
        )


async def test_a_later_upload_of_a_file_the_case_has_is_reported_not_added(
    db: None, settings: Settings
) -> None:
    case, viewer = await applicant_case(settings, [Upload("合同.pdf", PDF_BYTES)])
    store_blob(settings.evidence_dir, PNG_BYTES)
    added = await do_add_evidence(
        viewer,
        case.number,
        Side.APPLICANT,
        [
            StoredEvidence("合同-副本.pdf", "application/pdf", len(PDF_BYTES), PDF_SHA),
            StoredEvidence("截图.png", "image/png", len(PNG_BYTES), PNG_SHA),
        ],
        NOW,
    )
    assert [a.filename for a in added.added] == ["截图.png"]
    assert added.repeated == [Repeated("合同-副本.pdf", "合同.pdf")]
    assert await Evidence.filter(case=case).count() == 2
    assert await TimelineEvent.filter(case=case, kind="evidence_added").count() == 2


async def test_two_uploads_of_one_file_at_once_add_it_once(db: None, settings: Settings) -> None:
    """Proves the case row's lock in `do_add_evidence` on PostgreSQL only: both uploads are
    held after reading the case's evidence, so without the lock both see the file missing;
    the second then fails on the unique index (an error page) instead of being told the file
    is already attached. On SQLite one transaction runs at a time: it checks the outcome."""
    case, viewer = await applicant_case(settings, [])
    store_blob(settings.evidence_dir, PDF_BYTES)

    def upload(name: str) -> list[StoredEvidence]:
        return [StoredEvidence(name, "application/pdf", len(PDF_BYTES), PDF_SHA)]

    with rendezvous("add_evidence") as point:
        results = await asyncio.gather(
            do_add_evidence(viewer, case.number, Side.APPLICANT, upload("一.pdf"), NOW),
            do_add_evidence(viewer, case.number, Side.APPLICANT, upload("二.pdf"), NOW),
            return_exceptions=True,
        )
    assert point.arrived == 2
    assert not [r for r in results if isinstance(r, BaseException)], results
    added = [a.filename for r in results if not isinstance(r, BaseException) for a in r.added]
    repeated = [x for r in results if not isinstance(r, BaseException) for x in r.repeated]
    assert len(added) == 1 and len(repeated) == 1
    assert repeated[0].kept_as == added[0]
    assert await Evidence.filter(case=case).count() == 1


@asynccontextmanager
async def todays_columns_on_an_older_schema() -> AsyncIterator[None]:
    """Add the columns today's models have and an older schema lacks (nullable, so rows the
    ORM writes fit), and drop them again afterwards: a data migration's test builds its rows
    with today's actions on the schema the migration runs on."""
    client = Tortoise.get_connection("default")
    dialect = client.capabilities.dialect
    added: list[tuple[str, str]] = []
    for model in Tortoise.apps["models"].values():
        table = model._meta.db_table
        if dialect == "sqlite":
            rows = await client.execute_query_dict(f"PRAGMA table_info('{table}')")
            present = {str(row["name"]) for row in rows}
        else:
            rows = await client.execute_query_dict(
                "SELECT column_name FROM information_schema.columns WHERE table_name = $1",
                [table],
            )
            present = {str(row["column_name"]) for row in rows}
        if not present:
            continue  # a table of a later migration: nothing writes it here
        for field in model._meta.fields_map.values():
            column = getattr(field, "source_field", None) or field.model_field_name
            if field.has_db_field and column not in present:
                sql_type = field.get_for_dialect(dialect, "SQL_TYPE")
                await client.execute_script(
                    f'ALTER TABLE "{table}" ADD COLUMN "{column}" {sql_type}'
                )
                added.append((table, column))
    try:
        yield
    finally:
        for table, column in added:
            await client.execute_script(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')


async def test_migration_0011_merges_duplicates_and_repoints_what_referred_to_them(
    database_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Today's filing runs on the schema before 0011, which has no merchants yet (0013): the
    # respondent is taken as not enrolled, as it was then.
    async def not_enrolled(respondents: object) -> dict[str, object]:
        return {}

    monkeypatch.setattr(cases.actions, "enrolled_merchants", not_enrolled)

    # Nor partners' webhooks (0015): the journal's webhook hook finds no partner to tell.
    async def no_partners(cases: list[Case]) -> dict[int, set[int]]:
        return {case.id: set() for case in cases}

    monkeypatch.setattr(cases.webhooks.models, "partners_of_cases", no_partners)

    # Nor has it the tables of one dispute, one number (0016): no lock, no match, no source.
    async def nothing(*args: object, **kwargs: object) -> None:
        return None

    for name in ("lock_dispute", "find_open_match", "do_record_source"):
        monkeypatch.setattr(cases.intake, name, nothing)
    # Nor the district figures' pending table (0018): the journal does not queue for them.
    monkeypatch.setattr(
        cases.journal,
        "_events_recorded",
        [h for h in cases.journal._events_recorded if h is not queue_for_figures],
    )
    config = tortoise_config(database_url)
    await run_migrations(config=config, target="models.0010_realtime")
    await Tortoise.close_connections()
    await Tortoise.init(config=config)
    try:
        # Today's models write columns that later migrations add: they are added for the
        # setup and dropped again before migrating on.
        async with todays_columns_on_an_older_schema():
            case, _ = await applicant_case(settings, [Upload("合同.pdf", PDF_BYTES)])
            mediator_id = (
                await User.create(
                    username="m0011", password_hash="x", role=Role.MEDIATOR, display_name="调解员"
                )
            ).id
            first = await Evidence.get(case=case)
            # Before 0011 nothing stopped the same content being filed again.
            fields = {
                "case": case,
                "side": Side.APPLICANT,
                "media_type": "application/pdf",
                "size": 1,
                "created_at": NOW,
            }
            second = await Evidence.create(filename="合同(1).pdf", sha256=PDF_SHA, **fields)
            other = await Evidence.create(filename="截图.png", sha256=PNG_SHA, **fields)
            third = await Evidence.create(filename="合同(2).pdf", sha256=PDF_SHA, **fields)
            filing = await CourtFiling.create(
                filing_id="f-0011",
                case=case,
                kind=FilingKind.CONFIRMATION,
                status=FilingStatus.AWAITING_PARTIES,
                precheck={"property_proof_evidence": [second.id, other.id]},
                created_at=NOW,
                updated_at=NOW,
            )
            session = await MediationSession.create(
                case=case, starts_at=NOW, scheduled_by_id=mediator_id, created_at=NOW
            )
            shown = await RoomMessage.create(
                session_id=session.id,
                room="joint",
                seq=1,
                kind="evidence",
                body={"evidence_id": third.id, "filename": "合同(2).pdf"},
                client_id="c1",
                created_at=NOW,
            )
    finally:
        await Tortoise.close_connections()

    await run_migrations(config=config)
    await Tortoise.close_connections()
    await Tortoise.init(config=config)
    try:
        rows = await Evidence.filter(case_id=case.id).order_by("id").values_list("id", "filename")
        assert rows == [(first.id, "合同.pdf"), (other.id, "截图.png")]
        precheck = (await CourtFiling.get(id=filing.id)).precheck
        assert precheck == {"property_proof_evidence": sorted([first.id, other.id])}
        body = (await RoomMessage.get(id=shown.id)).body
        assert json.loads(json.dumps(body)) == {"evidence_id": first.id, "filename": "合同(2).pdf"}
        with pytest.raises(IntegrityError):
            await Evidence.create(filename="again.pdf", sha256=PDF_SHA, **fields)
    finally:
        await Tortoise.close_connections()
