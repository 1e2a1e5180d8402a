"""Early warnings on a real database: cases filed through the intake action raise alerts
once per rule, subject and week (also when two jobs run at once), staff move them with
notes, tell the partner platform (a webhook in the outbox) and the regulator (an email,
delivered to a real SMTP server), and draft, edit and issue suggestion letters."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from cases.accounts.actions import do_create_partner, do_create_staff
from cases.accounts.models import Role, User
from cases.actions import Filer
from cases.clock import SHANGHAI
from cases.errors import CaseConflict, CaseNotFound
from cases.intake import file_dispute
from cases.models import Notice, NoticeStatus
from cases.warnings.actions import (
    FieldErrors,
    do_add_note,
    do_draft_letter,
    do_edit_letter,
    do_move_alert,
    do_notify_partner,
    do_notify_regulator,
    do_raise_alerts,
    do_record_issued_letter,
    month_bounds,
    notes_of,
    previous_month,
)
from cases.warnings.models import Alert, AlertNote, SuggestionLetter
from cases.warnings.rules import AlertState, Thresholds
from cases.webhooks.actions import do_add_endpoint
from cases.webhooks.catalogue import GOVERNANCE_ALERT
from cases.webhooks.models import WebhookDelivery
from mediation.notify import Notifier
from mediation.settings import Settings
from tests.support.concurrency import rendezvous
from tests.support.factories import STAFF_PASSWORD, cheap_password_hashing, filing_fields, party_ids
from tests.support.live_server import free_port
from tests.support.warning_figures import CaseFigures

NOW = datetime(2026, 12, 4, 10, tzinfo=SHANGHAI).astimezone(UTC)  # Friday, week 49
T = Thresholds(surge_factor=3.0, surge_floor=10, burst_filings=50)

pytestmark = pytest.mark.usefixtures("db")
_ = cheap_password_hashing


async def file_many(
    settings: Settings, count: int, at: datetime, start: int, **fields: Any
) -> None:
    for n in range(start, start + count):
        await file_dispute(settings, filing_fields(**party_ids(n), **fields), [], Filer(), at)


async def staff(name: str = "gov", role: Role = Role.GOVERNANCE) -> User:
    return await do_create_staff(
        username=name, password=STAFF_PASSWORD, role=role, display_name=f"{name} 工作人员"
    )


async def surge_alert(settings: Settings) -> Alert:
    await file_many(settings, 1, NOW - timedelta(days=20), 0, category="tour_refund")
    await file_many(settings, 11, NOW - timedelta(days=2), 100, category="tour_refund")
    raised = await do_raise_alerts(NOW, T, CaseFigures())
    assert len(raised) == 1
    return raised[0]


async def test_a_surge_raises_one_alert_a_week(settings: Settings) -> None:
    await file_many(settings, 3, NOW - timedelta(days=20), 0, category="forced_shopping")
    alert = await surge_alert(settings)
    assert (alert.rule, alert.scope, alert.subject_key) == ("surge", "category", "tour_refund")
    assert alert.subject_label == "旅游费用退还"
    assert alert.state == AlertState.NEW and alert.week == "2026-W49"
    assert alert.figures["last_7_days"] == 11 and alert.figures["median_week"] == 0
    assert alert.parameters == {"factor": 3.0, "floor": 10, "weeks": 8, "days": 7}
    # The job runs again (later the same week): nothing new.
    assert await do_raise_alerts(NOW + timedelta(hours=5), T, CaseFigures()) == []
    assert await Alert.all().count() == 1
    # The next week it is a new alert if the surge still holds.
    await file_many(settings, 12, NOW + timedelta(days=5), 200, category="tour_refund")
    again = await do_raise_alerts(NOW + timedelta(days=6), T, CaseFigures())
    assert [a.week for a in again] == ["2026-W50"]


async def test_two_jobs_at_once_raise_it_once(settings: Settings) -> None:
    await file_many(settings, 10, NOW - timedelta(days=1), 0, category="accommodation")
    first, second = await asyncio.gather(
        do_raise_alerts(NOW, T, CaseFigures()), do_raise_alerts(NOW, T, CaseFigures())
    )
    assert len(first) + len(second) >= 1
    assert await Alert.filter(subject_key="accommodation").count() == 1


async def test_two_jobs_that_both_found_it_new_write_it_once(settings: Settings) -> None:
    """Both jobs read "not raised yet" before either writes (held at the pause point):
    the unique fingerprint and insert-or-ignore keep one row, and neither job fails."""
    await file_many(settings, 10, NOW - timedelta(days=1), 0, category="accommodation")
    with rendezvous("alert_insert") as point:
        first, second = await asyncio.gather(
            do_raise_alerts(NOW, T, CaseFigures()), do_raise_alerts(NOW, T, CaseFigures())
        )
    assert point.arrived == 2
    assert await Alert.filter(subject_key="accommodation").count() == 1
    assert {a.id for a in first} | {a.id for a in second} == {
        (await Alert.get(subject_key="accommodation")).id
    }


async def test_below_the_floor_nothing(settings: Settings) -> None:
    await file_many(settings, 9, NOW - timedelta(days=1), 0, category="accommodation")
    assert await do_raise_alerts(NOW, T, CaseFigures()) == []


async def test_response_rate_and_burst(settings: Settings) -> None:
    await file_many(settings, 3, NOW - timedelta(hours=3), 0)  # same respondent? no: own USCC
    same = {"respondent_id_number": party_ids(900)["respondent_id_number"]}
    for n in range(3):
        await file_dispute(
            settings,
            filing_fields(applicant_id_number=party_ids(300 + n)["applicant_id_number"], **same),
            [],
            Filer(),
            NOW - timedelta(hours=n),
        )
    t = Thresholds(surge_floor=100, burst_filings=3, response_minimum_asked=5)
    source = CaseFigures({"7": ("某网店", 1, 8), "8": ("好网店", 7, 8)})
    raised = await do_raise_alerts(NOW, t, source)
    assert sorted((a.rule, a.subject_label) for a in raised) == [
        ("burst", "上海某某国际旅行社有限公司"),
        ("response_rate", "某网店"),
    ]
    burst = next(a for a in raised if a.rule == "burst")
    assert burst.figures == {"filings": 3} and burst.parameters == {"filings": 3, "hours": 48}


async def test_states_and_notes(settings: Settings) -> None:
    alert = await surge_alert(settings)
    gov = await staff()
    acknowledged = await do_move_alert(alert.id, "acknowledge", gov, "已转市场监管所核实", NOW)
    assert acknowledged.state == AlertState.ACKNOWLEDGED
    with pytest.raises(CaseConflict):
        await do_move_alert(alert.id, "acknowledge", gov, "", NOW)
    with pytest.raises(FieldErrors) as missing:
        await do_move_alert(alert.id, "resolve", gov, "  ", NOW)
    assert missing.value.errors == {"text": "required"}
    await do_add_note(alert.id, gov, "旅行社已承诺三日内退款", NOW + timedelta(hours=1))
    resolved = await do_move_alert(alert.id, "resolve", gov, "已全部退款", NOW + timedelta(days=1))
    assert resolved.state == AlertState.RESOLVED
    notes = await notes_of(alert.id)
    assert [(n.action, n.state_from, n.state_to) for n in notes] == [
        ("acknowledge", "new", "acknowledged"),
        ("note", "", ""),
        ("resolve", "acknowledged", "resolved"),
    ]
    assert notes[0].author is not None and notes[0].author.id == gov.id
    # Only governance staff (and the platform's administrator) may act on alerts.
    mediator = await staff("mediator1", Role.COURT_CLERK)
    with pytest.raises(CaseNotFound):
        await do_move_alert(alert.id, "reopen", mediator, "", NOW)


async def test_two_staff_moving_at_once_one_wins(settings: Settings) -> None:
    alert = await surge_alert(settings)
    one, two = await staff("gov1"), await staff("gov2")
    results = await asyncio.gather(
        do_move_alert(alert.id, "acknowledge", one, "", NOW),
        do_move_alert(alert.id, "acknowledge", two, "", NOW),
        return_exceptions=True,
    )
    assert sum(isinstance(r, CaseConflict) for r in results) == 1
    assert await AlertNote.filter(alert_id=alert.id, action="acknowledge").count() == 1


async def test_the_partner_is_told_by_webhook(settings: Settings) -> None:
    alert = await surge_alert(settings)
    gov = await staff()
    partner, _ = await do_create_partner("某旅游平台")
    quiet, _ = await do_create_partner("另一平台")
    await do_add_endpoint(
        partner.id, "https://hooks.example.com/in", [GOVERNANCE_ALERT], "预警", NOW
    )
    await do_add_endpoint(quiet.id, "https://quiet.example.com/in", ["dispute.filed"], "", NOW)
    assert await do_notify_partner(alert.id, partner.id, gov, "请核查平台内旅行社", NOW) == 1
    delivery = await WebhookDelivery.get(event_type=GOVERNANCE_ALERT)
    body = json.loads(delivery.body)
    assert body["type"] == GOVERNANCE_ALERT
    assert body["data"]["subject"] == "旅游费用退还" and body["data"]["rule"] == "surge"
    assert body["data"]["figures"]["last_7_days"] == 11
    assert body["data"]["message"] == "请核查平台内旅行社"
    assert delivery.case_id is None and delivery.partner_id == partner.id
    with pytest.raises(CaseConflict):
        await do_notify_partner(alert.id, quiet.id, gov, "", NOW)
    assert (await Alert.get(id=alert.id)).partner_notified_at == NOW


@pytest.fixture
def smtp_sink() -> Iterator[tuple[int, list[Any]]]:
    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope)
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, received
    finally:
        controller.stop()


async def test_the_regulator_is_told_by_email(
    settings: Settings, smtp_sink: tuple[int, list[Any]]
) -> None:
    port, received = smtp_sink
    alert = await surge_alert(settings)
    gov = await staff()
    with pytest.raises(FieldErrors):
        await do_notify_regulator(alert.id, "not-an-address", gov, "", NOW, "http://x/")
    link = f"http://testserver/governance/alerts/{alert.id}"
    await do_notify_regulator(alert.id, "scjgj@changning.example", gov, "请关注", NOW, link)
    notifier = Notifier.from_settings(settings.with_(smtp_port=port))
    await notifier.deliver_due(NOW)  # the filings' own notices too
    assert (await Notice.get(recipient="scjgj@changning.example")).status == NoticeStatus.SENT
    (envelope,) = [e for e in received if e.rcpt_tos == ["scjgj@changning.example"]]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert "旅游费用退还" in str(message["subject"])
    text = message.get_body().get_content()  # type: ignore[union-attr]
    assert "请关注" in text and link in text and "近7日申请11件" in text
    # Plain words only: no field names, no ISO week codes.
    assert "last_7_days" not in text and "-W" not in text and "年第" in text
    assert (await Alert.get(id=alert.id)).regulator_notified_at == NOW


async def test_letters_drafted_edited_issued(settings: Settings) -> None:
    alert = await surge_alert(settings)
    gov = await staff()
    letter = await do_draft_letter(alert.id, "governance", gov, NOW, addressee="某旅行社")
    assert letter.title == "诉源治理建议书" and letter.state == "draft"
    assert "近7日涉及“旅游费用退还”的纠纷申请共11件" in letter.body
    assert letter.addressee == "某旅行社" and letter.body.startswith("经本平台纠纷数据监测")
    assert letter.body.endswith("长宁区司法局\n2026年12月4日")
    judicial = await do_draft_letter(alert.id, "judicial", gov, NOW)
    assert judicial.title == "司法建议书" and "长宁区人民法院" in judicial.body
    with pytest.raises(FieldErrors) as wrong:
        await do_edit_letter(letter.id, gov, "", "标题", "", NOW)
    assert wrong.value.errors == {"addressee": "required", "body": "required"}
    edited = await do_edit_letter(letter.id, gov, "某旅行社", "诉源治理建议书", "正文", NOW)
    assert edited.body == "正文"
    assert await do_record_issued_letter(letter.id, gov, "a" * 64, "aa/aaa", 10, NOW)
    assert not await do_record_issued_letter(letter.id, gov, "b" * 64, "bb/bbb", 10, NOW)
    issued = await SuggestionLetter.get(id=letter.id)
    assert (issued.state, issued.pdf_sha256, issued.issued_by_id) == ("issued", "a" * 64, gov.id)
    with pytest.raises(CaseConflict):
        await do_edit_letter(letter.id, gov, "某旅行社", "诉源治理建议书", "改", NOW)
    actions = [n.action for n in await notes_of(alert.id)]
    assert actions == ["letter_drafted", "letter_drafted", "letter_issued"]


def test_months() -> None:
    from datetime import date

    assert previous_month(date(2026, 12, 1)) == "2026-11"
    assert previous_month(date(2027, 1, 15)) == "2026-12"
    assert month_bounds("2026-12") == (date(2026, 12, 1), date(2026, 12, 31))
    assert month_bounds("2028-02") == (date(2028, 2, 1), date(2028, 2, 29))


async def test_the_job_reads_the_district_figures(settings: Settings) -> None:
    """The real figures (cases.analytics): rolled up from the filings' events, then read by
    the job with its default source."""
    from cases.analytics.actions import roll_up_due

    await file_many(settings, 1, NOW - timedelta(days=20), 0, category="tour_refund")
    await file_many(settings, 11, NOW - timedelta(days=2), 100, category="tour_refund")
    await roll_up_due(NOW)
    raised = await do_raise_alerts(NOW, T)
    surges = {(a.scope, a.subject_label) for a in raised if a.rule == "surge"}
    assert ("category", "旅游费用退还") in surges
    alert = next(a for a in raised if a.scope == "category")
    assert alert.figures["last_7_days"] == 11
    assert await do_raise_alerts(NOW, T) == []
