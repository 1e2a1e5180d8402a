"""The agreement actions on the real database: versions, putting up for signature, signing by
password and by SMS code, refusals that change nothing, and the effect of the last signature
(exactly once, even when the last two signatures come at the same moment)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cases.access import viewer_of
from cases.agreements import rules
from cases.agreements.actions import (
    AgreementError,
    AgreementForbidden,
    AgreementInvalid,
    TooManyAttempts,
    access_agreement,
    do_put_up_for_signature,
    do_save_draft,
    do_send_signing_code,
    do_sign,
    draft_to_edit,
)
from cases.agreements.models import (
    AgreementSignature,
    AgreementStatus,
    AgreementVersion,
    SignatureMethod,
    SigningCode,
)
from cases.endings.actions import do_end_mediation
from cases.endings.models import EndRecord
from cases.errors import CaseConflict, CaseNotFound
from cases.models import Case, Notice, NoticeChannel, TimelineEvent
from cases.performance.models import PerformanceItem
from cases.routing.assignment import do_request_mediator_change
from cases.status import Status
from mediation.settings import Settings
from tests.support.agreements import (
    APPLICANT,
    MEDIATOR,
    MEDIATOR_MOBILE,
    RESPONDENT,
    AgreementWorld,
    build_agreement_world,
    draft,
    inserts_held,
)
from tests.support.concurrency import on_postgres, rendezvous
from tests.support.factories import cheap_password_hashing

PASSWORDS = {"applicant": APPLICANT[1], "respondent": RESPONDENT[1], "mediator": MEDIATOR[1]}


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


@pytest.fixture
async def world(db: None, settings: Settings) -> AgreementWorld:
    return await build_agreement_world(settings)


def now() -> datetime:
    return datetime.now(UTC)


async def frozen(world: AgreementWorld, settings: Settings, **changes: Any) -> AgreementVersion:
    mediator = world.users["mediator"]
    version = await do_save_draft(mediator, world.number, draft(**changes), now(), settings)
    return await do_put_up_for_signature(mediator, world.number, version.number, now(), settings)


async def sign(
    world: AgreementWorld, settings: Settings, who: str, version: AgreementVersion, **kw: Any
) -> Any:
    return await do_sign(
        world.users[who],
        world.number,
        version.number,
        sha256=kw.pop("sha256", version.sha256),
        method=kw.pop("method", SignatureMethod.PASSWORD),
        secret=kw.pop("secret", PASSWORDS.get(who, "")),
        now=kw.pop("at", now()),
        settings=settings,
    )


async def events(world: AgreementWorld, prefix: str = "agreement_") -> list[TimelineEvent]:
    return [
        e
        for e in await TimelineEvent.filter(case_id=world.case_id).order_by("at", "id")
        if e.kind.startswith(prefix)
    ]


# --- drafting --------------------------------------------------------------------------------


async def test_the_first_draft_is_prefilled_from_the_case(world: AgreementWorld) -> None:
    case = await Case.get(id=world.case_id)
    content = await draft_to_edit(case)
    assert [p["side"] for p in content["parties"]] == ["applicant", "respondent"]
    assert content["parties"][0]["name"] == "张三"
    assert content["facts"] == case.facts
    assert content["disputed_matters"].endswith(case.requested_outcome)
    assert content["terms"] == []


async def test_saving_makes_numbered_versions_and_supersedes_the_earlier_ones(
    world: AgreementWorld, settings: Settings
) -> None:
    mediator = world.users["mediator"]
    first = await do_save_draft(mediator, world.number, draft(), now(), settings)
    assert (first.number, first.status) == (1, AgreementStatus.DRAFT)
    assert first.template == "peoples"
    assert first.text.startswith("人民调解协议书\n")
    assert f"案件编号：{world.number}" in first.text
    assert "人民调解员（签名）：王调解" in first.text
    assert first.sha256 == rules.text_sha256(first.text)
    assert first.content["terms"][0]["amount"] == "3680.00"
    assert [p["name"] for p in first.content["parties"]] == ["张三", "上海某某国际旅行社有限公司"]
    assert (await draft_to_edit(await Case.get(id=world.case_id)))["facts"] == first.content[
        "facts"
    ]

    second = await do_save_draft(mediator, world.number, draft(other="无"), now(), settings)
    assert second.number == 2
    statuses = dict(
        await AgreementVersion.filter(case_id=world.case_id).values_list("number", "status")
    )
    assert statuses == {1: AgreementStatus.SUPERSEDED, 2: AgreementStatus.DRAFT}
    drafted = await events(world)
    assert [(e.kind, e.data["version"], e.data["superseded"]) for e in drafted] == [
        ("agreement_drafted", 1, []),
        ("agreement_drafted", 2, [1]),
    ]
    assert drafted[0].actor_id == mediator.id


async def test_an_invalid_draft_is_refused_with_field_errors_and_saves_nothing(
    world: AgreementWorld, settings: Settings
) -> None:
    bad = draft(terms=[{**draft()["terms"][0], "due_on": "2020-01-01", "manner": ""}])
    with pytest.raises(AgreementInvalid) as refused:
        await do_save_draft(world.users["mediator"], world.number, bad, now(), settings)
    assert refused.value.field_errors == {
        "terms.0.due_on": "agreement_due_date_past",
        "terms.0.manner": "agreement_manner_required",
    }
    assert await AgreementVersion.filter(case_id=world.case_id).count() == 0
    assert await events(world) == []


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("applicant", AgreementForbidden),
        ("respondent", AgreementForbidden),
        ("org_admin", AgreementForbidden),
        ("platform_admin", AgreementForbidden),
        ("other_mediator", CaseNotFound),
        ("other_org_admin", CaseNotFound),
        ("outsider", CaseNotFound),
    ],
)
async def test_only_the_cases_mediator_drafts_and_freezes(
    world: AgreementWorld, settings: Settings, who: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await do_save_draft(world.users[who], world.number, draft(), now(), settings)
    version = await do_save_draft(world.users["mediator"], world.number, draft(), now(), settings)
    with pytest.raises(error):
        await do_put_up_for_signature(
            world.users[who], world.number, version.number, now(), settings
        )
    assert (await AgreementVersion.get(id=version.id)).status == AgreementStatus.DRAFT


async def test_no_draft_outside_mediation(world: AgreementWorld, settings: Settings) -> None:
    await Case.filter(id=world.case_id).update(status=Status.FAILED)
    with pytest.raises(CaseConflict) as refused:
        await do_save_draft(world.users["mediator"], world.number, draft(), now(), settings)
    assert refused.value.code == "case_not_in_mediation"


# --- putting up for signature ----------------------------------------------------------------


async def test_putting_up_for_signature_freezes_the_version_and_tells_the_parties(
    world: AgreementWorld, settings: Settings
) -> None:
    version = await frozen(world, settings)
    assert version.status == AgreementStatus.SIGNING
    assert version.frozen_at is not None
    notices = await Notice.filter(case_id=world.case_id, subject__contains="Please sign")
    assert {n.recipient for n in notices} == {
        "13812345678",
        "zhangsan@example.com",
        "13900001111",
        "service@travel.example.com",
    }
    assert f"http://testserver/cases/{world.number}/agreement" in notices[0].body
    assert [e.kind for e in await events(world)] == ["agreement_drafted", "agreement_frozen"]
    with pytest.raises(CaseConflict) as again:
        await do_put_up_for_signature(world.users["mediator"], world.number, 1, now(), settings)
    assert again.value.code == "agreement_already_frozen"


async def test_a_superseded_draft_cannot_be_put_up(
    world: AgreementWorld, settings: Settings
) -> None:
    mediator = world.users["mediator"]
    await do_save_draft(mediator, world.number, draft(), now(), settings)
    await do_save_draft(mediator, world.number, draft(), now(), settings)
    with pytest.raises(CaseConflict) as refused:
        await do_put_up_for_signature(mediator, world.number, 1, now(), settings)
    assert refused.value.code == "agreement_superseded"
    with pytest.raises(CaseNotFound):
        await do_put_up_for_signature(mediator, world.number, 9, now(), settings)


async def test_a_time_limit_that_passed_since_saving_blocks_freezing(
    world: AgreementWorld, settings: Settings
) -> None:
    mediator = world.users["mediator"]
    version = await do_save_draft(mediator, world.number, draft(), now(), settings)
    with pytest.raises(AgreementInvalid) as refused:
        await do_put_up_for_signature(
            mediator, world.number, version.number, now() + timedelta(days=16), settings
        )
    assert refused.value.field_errors == {"terms.0.due_on": "agreement_due_date_past"}
    assert (await AgreementVersion.get(id=version.id)).status == AgreementStatus.DRAFT


# --- signing ---------------------------------------------------------------------------------


async def test_signing_by_password_records_an_attested_signature(
    world: AgreementWorld, settings: Settings
) -> None:
    version = await frozen(world, settings)
    signed = await sign(world, settings, "applicant", version)
    assert not signed.effective
    signature = await AgreementSignature.get(version_id=version.id)
    assert (signature.role, signature.method) == ("applicant", SignatureMethod.PASSWORD)
    assert signature.signer_id == world.users["applicant"].id
    assert signature.signed_sha256 == version.sha256
    assert rules.verify_attestation(
        settings.secret_key,
        version_id=version.id,
        role="applicant",
        signer_id=world.users["applicant"].id,
        sha256=version.sha256,
        signed_at=signature.signed_at,
        mac=signature.attestation,
    )
    assert (await AgreementVersion.get(id=version.id)).status == AgreementStatus.SIGNING
    last = (await events(world))[-1]
    assert (last.kind, last.data["role"], last.data["method"]) == (
        "agreement_signed",
        "applicant",
        "password",
    )
    with pytest.raises(CaseConflict) as twice:
        await sign(world, settings, "applicant", version)
    assert twice.value.code == "agreement_already_signed"


async def test_a_wrong_password_signs_nothing_and_repeated_failures_lock(
    world: AgreementWorld, settings: Settings
) -> None:
    version = await frozen(world, settings)
    for _ in range(settings.max_login_failures):
        with pytest.raises(AgreementError) as wrong:
            await sign(world, settings, "applicant", version, secret="not my password")
        assert wrong.value.code == "signing_password_wrong"
    with pytest.raises(TooManyAttempts) as locked:
        await sign(world, settings, "applicant", version)  # even the right one, for a while
    assert locked.value.code == "signing_locked"
    assert await AgreementSignature.filter(version_id=version.id).count() == 0
    assert [e.kind for e in await events(world)] == ["agreement_drafted", "agreement_frozen"]


async def code_from_sms(world: AgreementWorld, mobile: str) -> str:
    notice = (
        await Notice.filter(case_id=world.case_id, channel=NoticeChannel.SMS, recipient=mobile)
        .filter(subject__contains="Signing code")
        .order_by("-id")
        .first()
    )
    assert notice is not None
    match = re.search(r"验证码：(\d{6})", notice.body)
    assert match, notice.body
    return match.group(1)


async def test_signing_by_sms_code(world: AgreementWorld, settings: Settings) -> None:
    version = await frozen(world, settings)
    row = await do_send_signing_code(world.users["mediator"], world.number, 1, now(), settings)
    code = await code_from_sms(world, MEDIATOR_MOBILE)
    assert code not in row.code_hash and len(row.code_hash) == 64  # stored hashed
    assert row.expires_at - row.created_at == timedelta(minutes=10)
    signed = await sign(
        world, settings, "mediator", version, method=SignatureMethod.SMS_CODE, secret=code
    )
    assert signed.signature.method == SignatureMethod.SMS_CODE
    assert signed.signature.role == "mediator"
    assert (await SigningCode.get(id=row.id)).used_at is not None


async def test_a_code_is_refused_when_wrong_expired_used_or_tried_too_often(
    world: AgreementWorld, settings: Settings
) -> None:
    version = await frozen(world, settings)
    applicant = world.users["applicant"]

    async def try_code(code: str, at: datetime | None = None) -> str:
        with pytest.raises(AgreementError) as refused:
            await sign(
                world,
                settings,
                "applicant",
                version,
                method=SignatureMethod.SMS_CODE,
                secret=code,
                at=at or now(),
            )
        return refused.value.code

    assert await try_code("123456") == "signing_code_missing"
    sent_at = now()
    await do_send_signing_code(applicant, world.number, 1, sent_at, settings)
    code = await code_from_sms(world, APPLICANT[0])
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert await try_code(code, sent_at + timedelta(minutes=10)) == "signing_code_expired"
    for left in (4, 3, 2, 1):
        assert await try_code(wrong) == "signing_code_wrong"
        assert (await SigningCode.get(user=applicant)).attempts == 5 - left
    assert await try_code(wrong) == "signing_code_exhausted"
    assert await try_code(code) == "signing_code_exhausted"  # even the right one now
    assert await AgreementSignature.filter(version_id=version.id).count() == 0


async def test_codes_are_not_resent_too_often(world: AgreementWorld, settings: Settings) -> None:
    await frozen(world, settings)
    applicant = world.users["applicant"]
    start = now()
    await do_send_signing_code(applicant, world.number, 1, start, settings)
    with pytest.raises(TooManyAttempts) as soon:
        await do_send_signing_code(
            applicant, world.number, 1, start + timedelta(seconds=30), settings
        )
    assert soon.value.code == "signing_code_too_soon"
    assert soon.value.params == {"seconds": 30}
    for minute in range(1, 5):
        await do_send_signing_code(
            applicant, world.number, 1, start + timedelta(minutes=minute), settings
        )
    with pytest.raises(TooManyAttempts) as many:
        await do_send_signing_code(
            applicant, world.number, 1, start + timedelta(minutes=6), settings
        )
    assert many.value.code == "signing_code_too_many"
    assert await SigningCode.filter(user=applicant).count() == 5
    # Only the newest code counts.
    newest = await code_from_sms(world, APPLICANT[0])
    version = await AgreementVersion.get(case_id=world.case_id, number=1)
    signed = await sign(
        world,
        settings,
        "applicant",
        version,
        method=SignatureMethod.SMS_CODE,
        secret=newest,
        at=start + timedelta(minutes=6),
    )
    assert signed.signature.role == "applicant"


async def test_no_code_without_a_registered_mobile(
    world: AgreementWorld, settings: Settings
) -> None:
    await frozen(world, settings)
    from cases.accounts.models import User

    await User.filter(id=world.users["mediator"].id).update(mobile=None)
    mediator = await User.get(id=world.users["mediator"].id)
    with pytest.raises(AgreementError) as refused:
        await do_send_signing_code(mediator, world.number, 1, now(), settings)
    assert refused.value.code == "signing_code_no_mobile"
    assert await Notice.filter(subject__contains="Signing code").count() == 0


@pytest.mark.parametrize(
    ("who", "error", "code"),
    [
        ("org_admin", AgreementForbidden, "agreement_not_a_signer"),
        ("platform_admin", AgreementForbidden, "agreement_not_a_signer"),
        ("other_mediator", CaseNotFound, "case_not_found"),
        ("outsider", CaseNotFound, "case_not_found"),
    ],
)
async def test_only_the_mediator_and_the_parties_sign(
    world: AgreementWorld, settings: Settings, who: str, error: type[Exception], code: str
) -> None:
    version = await frozen(world, settings)
    for attempt in (
        sign(world, settings, who, version, secret="staff password 1"),
        do_send_signing_code(world.users[who], world.number, 1, now(), settings),
    ):
        with pytest.raises(error) as refused:
            await attempt
        assert getattr(refused.value, "code", None) == code
    assert await AgreementSignature.all().count() == 0


async def test_a_draft_cannot_be_signed(world: AgreementWorld, settings: Settings) -> None:
    version = await do_save_draft(world.users["mediator"], world.number, draft(), now(), settings)
    with pytest.raises(CaseConflict) as refused:
        await sign(world, settings, "applicant", version)
    assert refused.value.code == "agreement_not_for_signature"


async def test_a_superseded_version_cannot_be_signed_and_its_signatures_count_for_nothing(
    world: AgreementWorld, settings: Settings
) -> None:
    first = await frozen(world, settings)
    await sign(world, settings, "applicant", first)
    await sign(world, settings, "mediator", first)
    second = await frozen(world, settings, other="补充：双方互不追究。")
    assert (await AgreementVersion.get(id=first.id)).status == AgreementStatus.SUPERSEDED
    with pytest.raises(CaseConflict) as refused:
        await sign(world, settings, "respondent", first)
    assert refused.value.code == "agreement_superseded"
    # The old signatures stay on record, on the old version only.
    assert await AgreementSignature.filter(version_id=first.id).count() == 2
    signed = await sign(world, settings, "respondent", second)
    assert not signed.effective
    assert (await Case.get(id=world.case_id)).status == Status.IN_MEDIATION


async def test_a_hash_other_than_the_versions_is_refused(
    world: AgreementWorld, settings: Settings
) -> None:
    version = await frozen(world, settings)
    with pytest.raises(CaseConflict) as stale:
        await sign(world, settings, "applicant", version, sha256="0" * 64)
    assert stale.value.code == "agreement_text_changed"
    # Text altered behind the platform's back: its hash no longer matches, nobody can sign.
    await AgreementVersion.filter(id=version.id).update(text=version.text + "篡改")
    with pytest.raises(CaseConflict) as tampered:
        await sign(world, settings, "applicant", version)
    assert tampered.value.code == "agreement_text_changed"
    assert await AgreementSignature.all().count() == 0


# --- the effect ------------------------------------------------------------------------------


async def test_the_last_signature_seals_settles_and_opens_performance(
    world: AgreementWorld, settings: Settings
) -> None:
    version = await frozen(world, settings)
    assert not (await sign(world, settings, "respondent", version)).effective
    assert not (await sign(world, settings, "mediator", version)).effective
    last = await sign(world, settings, "applicant", version)
    assert last.effective
    stored = await AgreementVersion.get(id=version.id)
    assert stored.status == AgreementStatus.EFFECTIVE
    assert stored.effective_at == last.signature.signed_at
    assert stored.sealed_by_id == world.organisation_id
    assert stored.seal["organisation"] == "AGRORG"
    assert stored.seal["name"] == "调解组织 AGRORG"
    assert rules.verify_seal(settings.secret_key, stored.seal, stored.sha256)
    case = await Case.get(id=world.case_id)
    assert case.status == Status.SETTLED
    assert case.mediation_ended_at is not None
    items = await PerformanceItem.filter(case_id=world.case_id).order_by("term_number")
    assert [(i.term_number, i.obligor_side, i.due_on.isoformat()) for i in items] == [
        (1, "respondent", draft()["terms"][0]["due_on"]),
        (2, "applicant", draft()["terms"][1]["due_on"]),
    ]
    assert (
        items[0].description
        == "被申请人向申请人退还团费；金额：人民币3,680.00元；履行方式：银行转账"
    )
    assert all(i.version_id == version.id for i in items)
    kinds = [e.kind for e in await TimelineEvent.filter(case_id=world.case_id).order_by("at", "id")]
    # (the signed PDF, when issued, adds its own event after these)
    assert kinds[kinds.index("agreement_drafted") :][:7] == [
        "agreement_drafted",
        "agreement_frozen",
        "agreement_signed",
        "agreement_signed",
        "agreement_signed",
        "agreement_effective",
        "status_changed",
    ]
    settled = (
        await TimelineEvent.filter(case_id=world.case_id, kind="status_changed")
        .order_by("-id")
        .first()
    )
    assert settled is not None
    assert settled.data["status"] == ["in_mediation", "settled"]
    assert settled.actor_label == "system"
    told = await Notice.filter(case_id=world.case_id, subject__contains="is in effect")
    assert {n.recipient for n in told} >= {"13812345678", "13900001111", "zhangsan@example.com"}


async def test_an_effective_agreement_is_frozen_for_good(
    world: AgreementWorld, settings: Settings
) -> None:
    version = await frozen(world, settings)
    for who in ("applicant", "respondent", "mediator"):
        await sign(world, settings, who, version)
    with pytest.raises(CaseConflict):
        await do_save_draft(world.users["mediator"], world.number, draft(), now(), settings)
    with pytest.raises(CaseConflict) as refused:
        await do_send_signing_code(world.users["applicant"], world.number, 1, now(), settings)
    assert refused.value.code == "agreement_already_effective"
    assert await AgreementVersion.filter(case_id=world.case_id).count() == 1


async def test_the_last_two_signatures_at_once_take_effect_exactly_once(
    world: AgreementWorld, settings: Settings
) -> None:
    """Proves the case row's lock in `do_sign` on PostgreSQL only (SQLite runs one
    transaction at a time per process): each signer is held after writing its signature and
    before counting the signatures, so without the lock both count two of three, neither
    takes effect, every time."""
    version = await frozen(world, settings)
    await sign(world, settings, "mediator", version)
    with rendezvous("agreement_sign"):
        results = await asyncio.gather(
            sign(world, settings, "applicant", version),
            sign(world, settings, "respondent", version),
            return_exceptions=True,
        )
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sorted(r.effective for r in results) == [False, True]
    assert await AgreementSignature.filter(version_id=version.id).count() == 3
    assert (await AgreementVersion.get(id=version.id)).status == AgreementStatus.EFFECTIVE
    assert (await Case.get(id=world.case_id)).status == Status.SETTLED
    assert await PerformanceItem.filter(case_id=world.case_id).count() == 2
    assert (
        await TimelineEvent.filter(case_id=world.case_id, kind="agreement_effective").count() == 1
    )


async def test_the_same_side_signing_twice_at_once_leaves_one_signature(
    world: AgreementWorld, settings: Settings, database_url: str
) -> None:
    version = await frozen(world, settings)
    async with inserts_held(database_url, "agreement_signature") as waiting:
        tasks = [
            asyncio.create_task(sign(world, settings, "applicant", version)),
            asyncio.create_task(sign(world, settings, "applicant", version)),
        ]
        await waiting(2)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 1 and isinstance(refused[0], CaseConflict), results
    assert refused[0].code == "agreement_already_signed"
    assert await AgreementSignature.filter(version_id=version.id).count() == 1


async def test_access_tells_each_viewer_what_they_are_to_the_agreement(
    world: AgreementWorld,
) -> None:
    roles = {}
    for who in ("mediator", "applicant", "respondent", "org_admin", "platform_admin"):
        access = await access_agreement(world.users[who], world.number)
        roles[who] = (access.signer_role, access.handles)
    assert roles == {
        "mediator": ("mediator", True),
        "applicant": ("applicant", False),
        "respondent": ("respondent", False),
        "org_admin": (None, True),
        "platform_admin": (None, True),
    }
    for who in ("outsider", "other_mediator", "other_org_admin"):
        with pytest.raises(CaseNotFound):
            await access_agreement(world.users[who], world.number)


# --- leaving mediation closes the version open for signature ---------------------------------

FAILED_RECORD = {
    "ending": "failed",
    "undisputed_facts": "双方确认报名及付款事实。",
    "reasons_for_failure": "双方对退款金额分歧较大。",
    "cost_raising_conduct": "无",
}


async def end_as_failed(world: AgreementWorld) -> None:
    mediator = viewer_of(world.users["mediator"])
    await do_end_mediation(mediator, world.number, FAILED_RECORD, now())


async def mediator_replaced(world: AgreementWorld) -> None:
    from cases.models import Side

    applicant = world.users["applicant"]
    await do_request_mediator_change(
        await Case.get(id=world.case_id), Side.APPLICANT, "调解员迟迟不回复", now(), applicant.id
    )


@pytest.mark.parametrize(
    ("leave", "event"),
    [
        (end_as_failed, "agreement_withdrawn_mediation_ended"),
        (mediator_replaced, "agreement_withdrawn_mediator_replaced"),
    ],
)
async def test_leaving_mediation_withdraws_the_version_open_for_signature(
    world: AgreementWorld, settings: Settings, leave: Any, event: str
) -> None:
    version = await frozen(world, settings)
    await sign(world, settings, "mediator", version)
    await leave(world)

    assert (await AgreementVersion.get(id=version.id)).status == AgreementStatus.WITHDRAWN
    withdrawn = [e for e in await events(world) if e.kind.startswith("agreement_withdrawn")]
    assert [(e.kind, e.data["version"], e.actor_label) for e in withdrawn] == [(event, 1, "system")]
    for who in ("applicant", "respondent"):
        with pytest.raises(CaseConflict) as refused:
            await sign(world, settings, who, version)
        assert refused.value.code == "agreement_withdrawn"
        with pytest.raises(CaseConflict) as refused:
            await do_send_signing_code(world.users[who], world.number, 1, now(), settings)
        assert refused.value.code == "agreement_withdrawn"
    assert await AgreementSignature.filter(version_id=version.id).count() == 1
    assert await PerformanceItem.filter(case_id=world.case_id).count() == 0


async def test_the_time_out_job_withdraws_the_version_open_for_signature(
    world: AgreementWorld, settings: Settings
) -> None:
    from cases.clock import local_date
    from cases.deadlines.actions import do_open_deadline
    from cases.deadlines.rules import Regime
    from cases.endings.actions import do_time_out_overdue_mediations

    case = await Case.get(id=world.case_id)
    await do_open_deadline(case, Regime.ONLINE_MEDIATION, local_date(now()), now())
    version = await frozen(world, settings)
    # The 30-day limit (Art. 24) runs out with the version still unsigned.
    await do_time_out_overdue_mediations(now() + timedelta(days=120))
    assert (await Case.get(id=world.case_id)).status == Status.TIMED_OUT
    assert (await AgreementVersion.get(id=version.id)).status == AgreementStatus.WITHDRAWN
    assert [e.kind for e in await events(world, "agreement_withdrawn")] == [
        "agreement_withdrawn_mediation_ended"
    ]
    with pytest.raises(CaseConflict) as refused:
        await sign(world, settings, "applicant", version)
    assert refused.value.code == "agreement_withdrawn"


@pytest.mark.parametrize("order", ["sign_first", "end_first"])
async def test_the_last_signature_and_the_end_of_mediation_at_once_never_both_happen(
    world: AgreementWorld, settings: Settings, order: str
) -> None:
    """Proves something on PostgreSQL only (SQLite runs one transaction at a time per
    process): the last signature and the mediator's ending are both held inside their
    transactions at their pause points (`agreement_sign` after the signature is written,
    `leaving_mediation` after the status change), so without the case row's lock in
    `do_sign` both would commit: a signature on a withdrawn version of a failed case.
    Exactly one of them wins, whichever got the row first. On any database it checks that
    the ending withdraws the version in its own transaction."""
    version = await frozen(world, settings)
    await sign(world, settings, "mediator", version)
    await sign(world, settings, "applicant", version)
    with rendezvous("agreement_sign", "leaving_mediation") as point:
        first, second = (
            (sign(world, settings, "respondent", version), end_as_failed(world))
            if order == "sign_first"
            else (end_as_failed(world), sign(world, settings, "respondent", version))
        )
        task = asyncio.create_task(first)
        await asyncio.sleep(0.05)
        results = await asyncio.gather(task, second, return_exceptions=True)
    assert point.arrived >= 1
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 1 and isinstance(refused[0], CaseConflict), results
    case = await Case.get(id=world.case_id)
    status = AgreementStatus((await AgreementVersion.get(id=version.id)).status)
    signatures = await AgreementSignature.filter(version_id=version.id).count()
    if case.status == Status.SETTLED:
        assert (status, signatures) == (AgreementStatus.EFFECTIVE, 3)
        assert not await EndRecord.exists(case_id=world.case_id)
        # Refused by the status change's guard, or (if it ran after) by the access check.
        assert refused[0].code in ("case_changed_meanwhile", "mediation_not_in_progress")
    else:
        assert case.status == Status.FAILED
        assert (status, signatures) == (AgreementStatus.WITHDRAWN, 2)
        assert refused[0].code == "agreement_withdrawn"
        assert await PerformanceItem.filter(case_id=world.case_id).count() == 0
    if on_postgres():
        # The one that started first held the row: the other waited for it.
        assert case.status == (Status.SETTLED if order == "sign_first" else Status.FAILED)
