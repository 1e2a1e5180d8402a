"""Early warnings' actions: raising alerts from the figures (the background job), moving them
(acknowledge, resolve, reopen) with notes, telling the partner platform (a webhook) and the
regulator (an email notice), and suggestion letters (drafted, edited, recorded as issued).

The only writers of cases.warnings' models. Raising is idempotent and safe in several
processes: each alert's fingerprint is unique per rule, subject and ISO week, and the rows are
written insert-or-ignore, so two jobs evaluating the same figures raise each alert once.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from cases.accounts.models import PartnerPlatform, Role, User
from cases.analytics import figures
from cases.categories import BY_CODE
from cases.clock import local_date
from cases.errors import CaseConflict, CaseError, CaseNotFound
from cases.models import Notice, NoticeChannel
from cases.negotiation.models import Merchant
from cases.pause import pause_point
from cases.transactions import atomic
from cases.warnings.letters import draft_text, letter_errors
from cases.warnings.models import (
    Alert,
    AlertNote,
    LetterKind,
    LetterState,
    MonthlyReport,
    SuggestionLetter,
)
from cases.warnings.rules import (
    SURGE_SCOPES,
    AlertState,
    Finding,
    Rule,
    Scope,
    Thresholds,
    burst,
    fingerprint,
    move,
    response_rate,
    say_figures,
    say_week,
    surge,
    surge_window,
    week_of,
)
from cases.webhooks.catalogue import GOVERNANCE_ALERT, alert_payload
from cases.webhooks.models import WebhookEndpoint, queue_event

log = logging.getLogger("cases.warnings")

# Who may see and act on alerts: district governance staff and the platform's administrator.
STAFF_ROLES = frozenset({Role.GOVERNANCE, Role.PLATFORM_ADMIN})
MAX_NOTE_CHARS = 2000


class FieldErrors(CaseError):
    status_code = 422

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("form_has_errors")
        self.errors = dict(errors)


class FigureSource(Protocol):
    """What the rules read of the figures (cases.analytics.figures satisfies it)."""

    async def daily_filings(
        self, by: Any, since: date, until: date
    ) -> dict[str, dict[date, int]]: ...
    async def merchant_response_rates(self, since: date) -> dict[str, tuple[str, int, int]]: ...
    async def respondent_bursts(self, since: datetime, minimum: int) -> list[Any]: ...


def _dimension(source: Any, scope: Scope) -> Any:
    kind = getattr(source, "Dimension", None)
    return kind(scope.value) if kind is not None else scope.value


async def _labels(source: Any, scope: Scope, keys: Sequence[str]) -> dict[str, str]:
    """The words for each key: the figures' own labels where they give them, else the
    merchant's or platform's business name, or the category's label."""
    found: dict[str, str] = {}
    labels_of = getattr(source, "labels_of", None)
    if labels_of is not None:
        try:
            given = labels_of(_dimension(source, scope), list(keys))
            if inspect.isawaitable(given):
                given = await given
            if isinstance(given, Mapping):
                found.update({str(k): str(v) for k, v in given.items()})
        except Exception:  # an optional helper: fall back to our own words
            log.debug("labels_of(%s) failed", scope, exc_info=True)
    missing = [k for k in keys if k not in found]
    ids = [int(k) for k in missing if k.isdigit()]
    if scope is Scope.MERCHANT and ids:
        for merchant_id, name in await Merchant.filter(id__in=ids).values_list("id", "name"):
            found.setdefault(str(merchant_id), str(name))
    elif scope is Scope.PLATFORM and ids:
        for partner_id, name in await PartnerPlatform.filter(id__in=ids).values_list("id", "name"):
            found.setdefault(str(partner_id), str(name))
    elif scope is Scope.CATEGORY:
        for key in missing:
            if key in BY_CODE:
                found[key] = BY_CODE[key].zh
    return {key: found.get(key) or key for key in keys}


async def findings_at(now: datetime, t: Thresholds, source: Any) -> list[Finding]:
    """Every rule evaluated over the figures at `now` (Beijing dates)."""
    today = local_date(now)
    found: list[Finding] = []
    first, last = surge_window(today, t.surge_weeks)
    for scope in SURGE_SCOPES:
        daily = await source.daily_filings(_dimension(source, scope), first, last)
        labels = await _labels(source, scope, [str(k) for k in daily])
        for key, days in daily.items():
            finding = surge(scope, str(key), labels[str(key)], days, today, t)
            if finding is not None:
                found.append(finding)
    rates = await source.merchant_response_rates(today - timedelta(days=t.response_days - 1))
    for key, (name, answered, asked) in rates.items():
        finding = response_rate(str(key), str(name), int(answered), int(asked), t)
        if finding is not None:
            found.append(finding)
    since = now - timedelta(hours=t.burst_hours)
    for row in await source.respondent_bursts(since, t.burst_filings):
        finding = burst(str(row.key), str(row.label), int(row.count), t)
        if finding is not None:
            found.append(finding)
    return found


async def do_raise_alerts(
    now: datetime, thresholds: Thresholds, source: Any | None = None
) -> list[Alert]:
    """The background job: evaluate the rules and raise each alert not raised this week.
    Returns the alerts this call raised (another process may have raised some first)."""
    source = source if source is not None else figures
    week = week_of(local_date(now))
    rows = {
        fingerprint(f.rule, f.scope, f.key, week): Alert(
            fingerprint=fingerprint(f.rule, f.scope, f.key, week),
            rule=f.rule.value,
            scope=f.scope.value,
            subject_key=f.key[:200],
            subject_label=f.label[:200],
            week=week,
            parameters=dict(f.parameters),
            figures=dict(f.figures),
            state=AlertState.NEW,
            raised_at=now,
            updated_at=now,
        )
        for f in await findings_at(now, thresholds, source)
    }
    if not rows:
        return []
    known = set(
        await Alert.filter(fingerprint__in=list(rows)).values_list("fingerprint", flat=True)
    )
    fresh = [row for print_, row in rows.items() if print_ not in known]
    if not fresh:
        return []
    # Where the concurrency test holds two jobs that both found the alert not yet raised.
    await pause_point("alert_insert")
    # Insert-or-ignore: a row another process wrote meanwhile is skipped, not an error.
    await Alert.bulk_create(fresh, ignore_conflicts=True)
    raised = await Alert.filter(
        fingerprint__in=[row.fingerprint for row in fresh], raised_at=now
    ).order_by("id")
    if raised:
        log.info("early warnings raised: %s", ", ".join(a.fingerprint[:12] for a in raised))
    return list(raised)


# --- reading --------------------------------------------------------------------------------


def check_staff(user: User) -> None:
    if user.role not in STAFF_ROLES:
        raise CaseNotFound("alert_not_found")


async def alerts_list(state: str | None = None, limit: int = 200) -> list[Alert]:
    query = Alert.all()
    if state in {s.value for s in AlertState}:
        query = query.filter(state=state)
    return list(await query.order_by("-raised_at", "-id").limit(limit))


async def alert_of(alert_id: int) -> Alert:
    alert = await Alert.get_or_none(id=alert_id)
    if alert is None:
        raise CaseNotFound("alert_not_found")
    return alert


async def notes_of(alert_id: int) -> list[AlertNote]:
    return list(
        await AlertNote.filter(alert_id=alert_id).order_by("at", "id").prefetch_related("author")
    )


async def letters_of(alert_id: int) -> list[SuggestionLetter]:
    return list(await SuggestionLetter.filter(alert_id=alert_id).order_by("id"))


async def letter_of(letter_id: int) -> SuggestionLetter:
    letter = await SuggestionLetter.get_or_none(id=letter_id)
    if letter is None:
        raise CaseNotFound("letter_not_found")
    return letter


async def partner_concerned(alert: Alert) -> int | None:
    """The partner platform an alert concerns, if one: the platform itself, or the platform
    that vouched for the merchant (or that the merchant delegated answering to)."""
    key = alert.subject_key
    if alert.scope == Scope.PLATFORM:
        # The figures' platform keys: partner:<id>, or respondent:<name> (not a partner).
        kind, _, rest = key.rpartition(":")
        if kind in ("", "partner") and rest.isdigit():
            return int(rest)
        return None
    merchant: Merchant | None = None
    if alert.scope == Scope.MERCHANT and key.isdigit():
        merchant = await Merchant.get_or_none(id=int(key))
    elif alert.scope in (Scope.MERCHANT, Scope.RESPONDENT):
        merchant = await Merchant.get_or_none(uscc=key)
    if merchant is None:
        return None
    vouched: int | None = getattr(merchant, "vouched_by_id", None)
    delegated: int | None = getattr(merchant, "delegated_to_id", None)
    return vouched or delegated


# --- moving ---------------------------------------------------------------------------------


def _note_text(text: str) -> str:
    text = text.strip()
    if len(text) > MAX_NOTE_CHARS:
        raise FieldErrors({"text": "too_long"})
    return text


async def do_move_alert(alert_id: int, action: str, user: User, text: str, now: datetime) -> Alert:
    """Acknowledge, resolve or reopen an alert, with a note of who, when and why."""
    check_staff(user)
    text = _note_text(text)
    if action == "resolve" and not text:
        raise FieldErrors({"text": "required"})  # a resolved alert says how
    async with atomic():
        alert = await alert_of(alert_id)
        before = AlertState(alert.state)
        after = move(before, action)
        if after is None:
            raise CaseConflict("alert_state_changed")
        # Conditional: of two staff moving it at once, one wins and the other is told.
        won = await Alert.filter(id=alert_id, state=before).update(state=after, updated_at=now)
        if not won:
            raise CaseConflict("alert_state_changed")
        await AlertNote.create(
            alert_id=alert_id,
            author_id=user.id,
            action=action,
            state_from=before.value,
            state_to=after.value,
            text=text,
            at=now,
        )
    return await alert_of(alert_id)


async def do_add_note(alert_id: int, user: User, text: str, now: datetime) -> AlertNote:
    check_staff(user)
    text = _note_text(text)
    if not text:
        raise FieldErrors({"text": "required"})
    await alert_of(alert_id)
    return await AlertNote.create(
        alert_id=alert_id, author_id=user.id, action="note", text=text, at=now
    )


# --- telling others -------------------------------------------------------------------------


async def do_notify_partner(
    alert_id: int, partner_id: int, user: User, text: str, now: datetime
) -> int:
    """Tell a partner platform of an alert: a `governance.alert` webhook to each of its
    active endpoints subscribed to it (through the webhooks' outbox). Returns how many."""
    check_staff(user)
    text = _note_text(text)
    async with atomic():
        alert = await alert_of(alert_id)
        partner = await PartnerPlatform.get_or_none(id=partner_id, is_active=True)
        if partner is None:
            raise FieldErrors({"partner": "unknown"})
        endpoints = [
            e
            for e in await WebhookEndpoint.filter(partner_id=partner_id, is_active=True)
            if GOVERNANCE_ALERT in (e.events or [])
        ]
        if not endpoints:
            raise CaseConflict("alert_partner_not_subscribed", partner=partner.name)
        payload = alert_payload(
            now, alert.id, alert.rule, alert.subject_label, alert.week, alert.figures, text
        )
        for endpoint in endpoints:
            await queue_event(endpoint, GOVERNANCE_ALERT, payload, now)
        await Alert.filter(id=alert_id).update(partner_notified_at=now, updated_at=now)
        await AlertNote.create(
            alert_id=alert_id,
            author_id=user.id,
            action="notified_partner",
            text=f"{partner.name}: {text}" if text else partner.name,
            at=now,
        )
    return len(endpoints)


RULE_WORDS = {
    Rule.SURGE.value: "纠纷申请量激增",
    Rule.RESPONSE_RATE.value: "商户先行协商回应率偏低",
    Rule.BURST.value: "针对同一被申请人的同类纠纷集中发生",
}


def regulator_mail(alert: Alert, text: str, link: str) -> tuple[str, str]:
    """The regulator's email (Chinese: an official notice): subject and body."""
    rule = RULE_WORDS.get(alert.rule, alert.rule)
    subject = f"纠纷预警：{alert.subject_label}（{rule}）"
    lines = [
        "您好：",
        "",
        f"长宁区在线纠纷调解平台对“{alert.subject_label}”发出预警：{rule}。",
        f"统计周：{say_week(alert.week)}；数据：{say_figures(alert.figures)}。",
    ]
    if text:
        lines += ["", f"治理部门留言：{text}"]
    lines += ["", f"预警详情（需登录）：{link}", "", "长宁区诉源治理工作平台"]
    return subject, "\n".join(lines)


async def do_notify_regulator(
    alert_id: int, recipient: str, user: User, text: str, now: datetime, link: str
) -> Notice:
    """Tell the regulator of an alert by email: a notice row (delivered after commit by the
    platform's notifier, retried until sent)."""
    check_staff(user)
    text = _note_text(text)
    recipient = recipient.strip()
    if not recipient or "@" not in recipient or len(recipient) > 254:
        raise FieldErrors({"recipient": "invalid"})
    async with atomic():
        alert = await alert_of(alert_id)
        subject, body = regulator_mail(alert, text, link)
        notice = await Notice.create(
            case=None,
            channel=NoticeChannel.EMAIL,
            recipient=recipient,
            subject=subject[:200],
            body=body,
            next_attempt_at=now,
            created_at=now,
        )
        await Alert.filter(id=alert_id).update(regulator_notified_at=now, updated_at=now)
        await AlertNote.create(
            alert_id=alert_id,
            author_id=user.id,
            action="notified_regulator",
            text=f"{recipient}: {text}" if text else recipient,
            at=now,
        )
    return notice


# --- suggestion letters ---------------------------------------------------------------------


async def do_draft_letter(
    alert_id: int, kind: str, user: User, now: datetime, *, addressee: str = "", issuer: str = ""
) -> SuggestionLetter:
    """A new draft letter about an alert, from the template filled with its figures."""
    check_staff(user)
    if kind not in LetterKind.ALL:
        raise FieldErrors({"kind": "unknown"})
    alert = await alert_of(alert_id)
    partner_id = await partner_concerned(alert)
    if not addressee:
        partner = await PartnerPlatform.get_or_none(id=partner_id) if partner_id else None
        addressee = partner.name if partner else alert.subject_label
    issuer = issuer or ("长宁区人民法院" if kind == LetterKind.JUDICIAL else "长宁区司法局")
    draft = draft_text(
        kind,
        alert.rule,
        alert.subject_label,
        alert.parameters,
        alert.figures,
        addressee=addressee[:200],
        issuer=issuer,
        today=local_date(now),
    )
    async with atomic():
        letter = await SuggestionLetter.create(
            alert_id=alert_id,
            kind=kind,
            addressee=draft.addressee,
            title=draft.title,
            body=draft.body,
            state=LetterState.DRAFT,
            partner_id=partner_id,
            created_by_id=user.id,
            created_at=now,
            updated_at=now,
        )
        await AlertNote.create(
            alert_id=alert_id, author_id=user.id, action="letter_drafted", text=draft.title, at=now
        )
    return letter


async def do_edit_letter(
    letter_id: int, user: User, addressee: str, title: str, body: str, now: datetime
) -> SuggestionLetter:
    """Edit a draft (an issued letter is fixed by its PDF's SHA-256)."""
    check_staff(user)
    errors = letter_errors(addressee, title, body)
    if errors:
        raise FieldErrors(errors)
    won = await SuggestionLetter.filter(id=letter_id, state=LetterState.DRAFT).update(
        addressee=addressee.strip(), title=title.strip(), body=body.strip(), updated_at=now
    )
    if not won:
        await letter_of(letter_id)  # not found, or:
        raise CaseConflict("letter_already_issued")
    return await letter_of(letter_id)


async def do_record_issued_letter(
    letter_id: int, user: User, sha256: str, path: str, size: int, now: datetime
) -> bool:
    """Record a rendered letter's PDF as issued (once: of two racing, one records)."""
    check_staff(user)
    async with atomic():
        letter = await letter_of(letter_id)
        won = await SuggestionLetter.filter(id=letter_id, state=LetterState.DRAFT).update(
            state=LetterState.ISSUED,
            pdf_sha256=sha256,
            pdf_path=path,
            pdf_size=size,
            issued_by_id=user.id,
            issued_at=now,
            updated_at=now,
        )
        if won:
            await AlertNote.create(
                alert_id=letter.alert_id,
                author_id=user.id,
                action="letter_issued",
                text=f"{letter.title} SHA-256 {sha256}",
                at=now,
            )
    return bool(won)


# --- monthly reports ------------------------------------------------------------------------


def previous_month(today: date) -> str:
    first = today.replace(day=1)
    last = first - timedelta(days=1)
    return f"{last.year}-{last.month:02d}"


def month_bounds(month: str) -> tuple[date, date]:
    """The first and last day of a month given as 2026-11."""
    year, number = (int(part) for part in month.split("-"))
    first = date(year, number, 1)
    following = date(year + (number == 12), number % 12 + 1, 1)
    return first, following - timedelta(days=1)


async def report_of(month: str) -> MonthlyReport | None:
    return await MonthlyReport.get_or_none(month=month)


async def reports_list() -> list[MonthlyReport]:
    return list(await MonthlyReport.all().order_by("-month"))


async def do_record_report(
    month: str, sha256: str, path: str, size: int, now: datetime, user: User | None = None
) -> MonthlyReport:
    """Record a month's report (insert-or-ignore: the first one written is the month's)."""
    await MonthlyReport.bulk_create(
        [
            MonthlyReport(
                month=month,
                pdf_sha256=sha256,
                pdf_path=path,
                pdf_size=size,
                requested_by_id=user.id if user else None,
                created_at=now,
            )
        ],
        ignore_conflicts=True,
    )
    return await MonthlyReport.get(month=month)
