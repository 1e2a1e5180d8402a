"""Suggestion letters issued as PDFs (read back with pdftotext, SHA-256 kept) and the monthly
report PDF (the job's for last month, once; on demand for another month)."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cases.accounts.actions import do_create_staff
from cases.accounts.models import Role, User
from cases.actions import Filer
from cases.analytics.actions import roll_up_due
from cases.clock import SHANGHAI
from cases.intake import file_dispute
from cases.warnings.actions import do_draft_letter, do_edit_letter, do_raise_alerts
from cases.warnings.models import MonthlyReport, SuggestionLetter
from cases.warnings.rules import Thresholds
from mediation.reports import do_issue_monthly_report, issue_letter, run_early_warnings
from mediation.settings import Settings
from tests.support.factories import STAFF_PASSWORD, cheap_password_hashing, filing_fields, party_ids

NOW = datetime(2026, 12, 4, 10, tzinfo=SHANGHAI).astimezone(UTC)
T = Thresholds(surge_factor=3.0, surge_floor=10)

pytestmark = pytest.mark.usefixtures("db")
_ = cheap_password_hashing


def pdf_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.decode("utf-8")


async def surge(settings: Settings) -> int:
    for n in range(11):
        at = NOW - timedelta(days=2 if n else 20)
        fields = filing_fields(**party_ids(n), category="tour_refund")
        await file_dispute(settings, fields, [], Filer(), at)
    await roll_up_due(NOW)
    raised = await do_raise_alerts(NOW, T)
    return next(a.id for a in raised if a.scope == "category")


async def gov() -> User:
    return await do_create_staff(
        username="gov", password=STAFF_PASSWORD, role=Role.GOVERNANCE, display_name="区司法局"
    )


async def test_a_letter_is_issued_once_as_a_pdf(settings: Settings) -> None:
    alert_id = await surge(settings)
    user = await gov()
    letter = await do_draft_letter(alert_id, "governance", user, NOW, addressee="某旅行社")
    await do_edit_letter(
        letter.id, user, "某旅行社", letter.title, letter.body + "\n特此建议。", NOW
    )
    digest = await issue_letter(letter.id, user, settings, NOW + timedelta(hours=1))
    issued = await SuggestionLetter.get(id=letter.id)
    path = settings.data_dir / issued.pdf_path
    assert issued.pdf_sha256 == digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert issued.pdf_size == path.stat().st_size
    text = pdf_text(path)
    for words in (
        "诉源治理建议书",
        "某旅行社",
        "特此建议",
        "预警依据",
        "旅游费用退还",
        "2026年12月4日",
    ):
        assert words in text, words
    # Issuing again changes nothing.
    assert await issue_letter(letter.id, user, settings, NOW + timedelta(hours=2)) == digest


async def test_the_monthly_report(settings: Settings) -> None:
    await surge(settings)
    # The job in December makes November's report, once.
    await run_early_warnings(settings, NOW)
    await run_early_warnings(settings, NOW + timedelta(minutes=5))
    (november,) = await MonthlyReport.all()
    assert november.month == "2026-11"
    assert "2026年11月" in pdf_text(settings.data_dir / november.pdf_path)
    # On demand: this month, with its filings and alert.
    december = await do_issue_monthly_report(settings, NOW, "2026-12")
    text = pdf_text(settings.data_dir / december.pdf_path)
    for words in ("2026年12月", "纠纷申请合计 10 件", "旅游费用退还", "本月预警", "纠纷申请量激增"):
        assert words in text, words
    again = await do_issue_monthly_report(settings, NOW + timedelta(days=1), "2026-12")
    assert again.pdf_sha256 == december.pdf_sha256
