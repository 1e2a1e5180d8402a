"""One dispute, one number at the seam every channel files through (`cases.intake`): merged,
linked or asked; every source recorded; two channels filing one dispute at once make one
case; and the repeat-claimant signal counted from the database."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from cases.accounts.actions import do_create_partner, do_register_disputant
from cases.actions import Filer
from cases.duplicates.actions import applicant_filings, staff_duplicates
from cases.duplicates.models import CaseSource, DuplicateLink
from cases.duplicates.rules import RepeatSignal, RepeatThresholds
from cases.evidence_store import store_blob
from cases.intake import OnMatch, PossibleDuplicate, Upload, file_dispute_reporting
from cases.models import Case, Evidence, Party, TimelineEvent
from cases.status import Status
from mediation.settings import Settings
from tests.support.concurrency import rendezvous
from tests.support.factories import (
    PDF_BYTES,
    PNG_BYTES,
    STAFF_PASSWORD,
    cheap_password_hashing,
    filing_fields,
    party_ids,
    uscc,
)

NOW = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
RETOLD = "我10月报名了云南六日游，旅行社在出发前三天单方面取消了行程，团费至今没有退还。"


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


async def partner(name: str) -> Filer:
    platform, _ = await do_create_partner(name)
    return Filer(partner_id=platform.id, partner_name=platform.name)


def with_reference(filer: Filer, reference: str) -> Filer:
    return Filer(
        partner_id=filer.partner_id, partner_name=filer.partner_name, partner_reference=reference
    )


async def counts() -> dict[str, int]:
    return {
        "cases": await Case.all().count(),
        "parties": await Party.all().count(),
        "evidence": await Evidence.all().count(),
        "events": await TimelineEvent.all().count(),
        "sources": await CaseSource.all().count(),
        "links": await DuplicateLink.all().count(),
    }


async def test_a_partner_filing_of_an_open_dispute_is_merged_with_its_source_and_evidence(
    db: None, settings: Settings
) -> None:
    trip = await partner("某旅游平台")
    shop = await partner("某电商平台")
    first = await file_dispute_reporting(
        settings,
        filing_fields(order_number="ORD-1"),
        [Upload("合同.pdf", PDF_BYTES)],
        with_reference(trip, "T-1"),
        NOW,
        idempotency_key="k-trip-1",
    )
    later = NOW + timedelta(hours=2)
    second = await file_dispute_reporting(
        settings,
        filing_fields(
            order_number="ord-1", facts="订单ORD-1的旅游团被取消，要求退款，商家不理睬。"
        ),
        [Upload("合同.pdf", PDF_BYTES), Upload("截图.png", PNG_BYTES)],
        with_reference(shop, "S-9"),
        later,
        idempotency_key="k-shop-9",
    )

    assert not first.merged and first.possible_duplicate_of is None
    assert second.merged and second.case.id == first.case.id
    assert [r.filename for r in second.repeated] == ["合同.pdf"]  # already in the case
    assert await Case.all().count() == 1
    sources = await CaseSource.filter(case=first.case).order_by("id").prefetch_related("partner")
    assert [
        (s.channel, s.partner.name if s.partner else None, s.partner_reference, s.idempotency_key)
        for s in sources
    ] == [
        ("partner", "某旅游平台", "T-1", "k-trip-1"),
        ("partner", "某电商平台", "S-9", "k-shop-9"),
    ]
    assert [s.merged for s in sources] == [False, True]
    assert sources[1].reason == "same_order_number"
    assert sources[1].received_at == later
    # What the merged filing said is kept for staff; the case keeps its own account.
    assert sources[1].filed_claim == {
        "claim_amount": "3680.00",
        "facts": "订单ORD-1的旅游团被取消，要求退款，商家不理睬。",
        "requested_outcome": "退还全部团费3680元。",
    }
    assert sources[0].filed_claim == {}
    assert (await Case.get(id=first.case.id)).facts == filing_fields()["facts"]
    assert sorted(e.filename for e in await Evidence.filter(case=first.case)) == [
        "合同.pdf",
        "截图.png",
    ]
    merged_events = await TimelineEvent.filter(case=first.case, kind="filing_merged")
    assert [(e.actor_label, e.data["channel"]) for e in merged_events] == [
        ("partner:某电商平台", "partner")
    ]


async def test_the_same_partner_source_sent_again_is_recorded_once(
    db: None, settings: Settings
) -> None:
    trip = await partner("某旅游平台")
    await file_dispute_reporting(settings, filing_fields(), [], trip, NOW)
    other = with_reference(trip, "R-2")
    for key in ("a", "b"):
        filed = await file_dispute_reporting(
            settings, filing_fields(), [], other, NOW, idempotency_key=key
        )
        assert filed.merged
    assert await CaseSource.all().count() == 2
    assert await TimelineEvent.filter(kind="filing_merged").count() == 1


async def test_a_web_filing_then_a_partner_filing_of_the_same_dispute_is_one_case(
    db: None, settings: Settings
) -> None:
    user = await do_register_disputant(
        identifier="13812345678", password=STAFF_PASSWORD, display_name="张三"
    )
    web = await file_dispute_reporting(
        settings, filing_fields(), [], Filer(user_id=user.id), NOW, on_match=OnMatch.ASK
    )
    api = await file_dispute_reporting(
        settings, filing_fields(facts=RETOLD), [], await partner("某旅游平台"), NOW
    )
    assert api.merged and api.case.number == web.case.number
    assert [s.channel for s in await CaseSource.filter(case=web.case).order_by("id")] == [
        "web",
        "partner",
    ]
    sources = await CaseSource.filter(case=web.case).order_by("id")
    assert sources[0].filed_by_id == user.id and sources[1].reason == (
        "same_credit_code_similar_facts"
    )


@pytest.mark.parametrize(
    "ended", [Status.WITHDRAWN, Status.REFUSED, Status.SETTLED, Status.SETTLED_BY_NEGOTIATION]
)
async def test_an_ended_dispute_may_be_filed_again(
    db: None, settings: Settings, ended: Status
) -> None:
    trip = await partner("某旅游平台")
    first = await file_dispute_reporting(settings, filing_fields(), [], trip, NOW)
    await Case.filter(id=first.case.id).update(status=ended)
    again = await file_dispute_reporting(settings, filing_fields(), [], trip, NOW)
    assert not again.merged and again.case.id != first.case.id
    assert again.possible_duplicate_of is None
    assert await DuplicateLink.all().count() == 0


async def test_other_disputes_are_not_merged(db: None, settings: Settings) -> None:
    trip = await partner("某旅游平台")
    await file_dispute_reporting(settings, filing_fields(order_number="A"), [], trip, NOW)
    other_shop = {"respondent_id_number": uscc("91310105MA1FL0077")}
    other_person = {"applicant_id_number": party_ids(7)["applicant_id_number"]}
    other_story = {
        "facts": "在线购买的空气净化器收到后无法开机，商家拒绝换货。",
        "order_number": "B",
    }
    for overrides in (other_shop, other_person, other_story):
        filed = await file_dispute_reporting(settings, filing_fields(**overrides), [], trip, NOW)
        assert not filed.merged, overrides
        assert filed.possible_duplicate_of is None, overrides
    assert await Case.all().count() == 4


async def test_the_web_form_asks_first_and_nothing_is_filed(db: None, settings: Settings) -> None:
    user = await do_register_disputant(
        identifier="13812345678", password=STAFF_PASSWORD, display_name="张三"
    )
    me = Filer(user_id=user.id)
    first = await file_dispute_reporting(
        settings, filing_fields(), [], me, NOW, on_match=OnMatch.ASK
    )
    before = await counts()

    with pytest.raises(PossibleDuplicate) as asked:
        await file_dispute_reporting(
            settings,
            filing_fields(facts=RETOLD),
            [Upload("截图.png", PNG_BYTES)],
            me,
            NOW,
            on_match=OnMatch.ASK,
        )

    assert asked.value.number == first.case.number
    assert asked.value.respondent_name == "上海某某国际旅行社有限公司"
    assert [k.filename for k in asked.value.kept] == ["截图.png"]  # kept for the next step
    assert await counts() == before

    anyway = await file_dispute_reporting(
        settings, filing_fields(facts=RETOLD), [], me, NOW, on_match=OnMatch.FILE_ANYWAY
    )
    assert not anyway.merged and anyway.possible_duplicate_of == first.case.number
    link = await DuplicateLink.get(case=anyway.case)
    assert (link.possible_duplicate_of_id, link.applicant_told) == (first.case.id, True)

    merged = await file_dispute_reporting(
        settings,
        filing_fields(facts=RETOLD),
        [Upload("截图.png", PNG_BYTES)],
        me,
        NOW,
        on_match=OnMatch.MERGE,
        merge_into=first.case.number,  # the case the notice named
    )
    assert merged.merged and merged.case.id == first.case.id
    assert await Evidence.filter(case=first.case, filename="截图.png").exists()


async def test_a_person_is_never_told_of_nor_merged_into_another_persons_case(
    db: None, settings: Settings
) -> None:
    """Anyone can type an ID number: the notice names only the filer's own cases."""
    owner = await do_register_disputant(
        identifier="13812345678", password=STAFF_PASSWORD, display_name="张三"
    )
    stranger = await do_register_disputant(
        identifier="13900002222", password=STAFF_PASSWORD, display_name="王五"
    )
    theirs = await file_dispute_reporting(
        settings, filing_fields(), [], Filer(user_id=owner.id), NOW
    )
    for on_match in (OnMatch.MERGE, OnMatch.ASK):
        filed = await file_dispute_reporting(
            settings,
            filing_fields(),
            [],
            Filer(user_id=stranger.id),
            NOW,
            on_match=on_match,
            merge_into=theirs.case.number,
        )
        assert not filed.merged and filed.case.id != theirs.case.id
        # Staff still see the likeness, and that the filer was not told.
        link = await DuplicateLink.get(case=filed.case)
        assert (link.possible_duplicate_of_id, link.applicant_told) == (theirs.case.id, False)
        await Case.filter(id=filed.case.id).update(status=Status.WITHDRAWN)
    # Once the stranger has an open case of their own, they are told of that one only.
    own = await file_dispute_reporting(
        settings, filing_fields(), [], Filer(user_id=stranger.id), NOW
    )
    with pytest.raises(PossibleDuplicate) as asked:
        await file_dispute_reporting(
            settings, filing_fields(), [], Filer(user_id=stranger.id), NOW, on_match=OnMatch.ASK
        )
    assert asked.value.number == own.case.number


async def test_demo_and_other_callers_file_and_link_by_default(
    db: None, settings: Settings
) -> None:
    first = await file_dispute_reporting(settings, filing_fields(), [], Filer(), NOW)
    second = await file_dispute_reporting(settings, filing_fields(), [], Filer(), NOW)
    assert second.case.id != first.case.id and second.possible_duplicate_of == first.case.number


async def test_two_channels_filing_one_dispute_at_once_make_one_case(
    db: None, settings: Settings
) -> None:
    """Both filings are held right after looking for an open case (`dispute_lock`): without
    the pair's lock both find none and each opens a case, every time, on PostgreSQL. With
    it, the second waits for the first to commit and is merged. On SQLite one transaction
    runs at a time: it checks the outcome (run with DATABASE_URL=postgres://... too)."""
    trip = with_reference(await partner("某旅游平台"), "T-1")
    shop = with_reference(await partner("某电商平台"), "S-1")
    store_blob(settings.evidence_dir, PDF_BYTES)

    with rendezvous("dispute_lock", parties=2, wait=1.0) as point:
        results = await asyncio.gather(
            file_dispute_reporting(
                settings, filing_fields(order_number="O-1"), [Upload("a.pdf", PDF_BYTES)], trip, NOW
            ),
            file_dispute_reporting(
                settings,
                filing_fields(order_number="O-1", facts=RETOLD),
                [Upload("b.png", PNG_BYTES)],
                shop,
                NOW,
            ),
            return_exceptions=True,
        )

    assert point.arrived == 2
    assert point.together <= 1, "both filings looked for the open case at once"
    assert not [r for r in results if isinstance(r, BaseException)], results
    filed = [r for r in results if not isinstance(r, BaseException)]
    assert sorted(f.merged for f in filed) == [False, True]
    assert len({f.case.id for f in filed}) == 1
    assert await Case.all().count() == 1
    assert await CaseSource.all().count() == 2
    assert await Evidence.all().count() == 2


async def test_repeat_claimant_signal_counts_cases_not_merged_filings(
    db: None, settings: Settings
) -> None:
    trip = await partner("某旅游平台")
    thresholds = RepeatThresholds(filings=3, respondents=3, days=30)
    cases = []
    for n in range(3):
        shop = {"respondent_id_number": uscc(f"91310105MA1FL{n + 100:04d}")}
        filed = await file_dispute_reporting(
            settings, filing_fields(**shop), [], trip, NOW + timedelta(days=n)
        )
        cases.append(filed.case)
    # The same dispute again, merged: still three filings.
    shop0 = {"respondent_id_number": uscc("91310105MA1FL0100")}
    assert (await file_dispute_reporting(settings, filing_fields(**shop0), [], trip, NOW)).merged
    assert len(await applicant_filings(cases[0])) == 3

    later = NOW + timedelta(days=3)
    seen = await staff_duplicates(cases[0], later, thresholds)
    assert seen.repeat == RepeatSignal(3, 3, 30)
    assert len(seen.sources) == 2
    quiet = await staff_duplicates(cases[0], later, RepeatThresholds(4, 3, 30))
    assert quiet.repeat is None
    # Someone else's filings never count towards this applicant.
    other = await file_dispute_reporting(settings, filing_fields(**party_ids(9)), [], trip, NOW)
    assert len(await applicant_filings(other.case)) == 1


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
