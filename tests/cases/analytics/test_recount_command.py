"""`mediation recount-figures` rebuilds the figures from the case record, in its own
process, and says how many cases it counted."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from cases.actions import Filer
from cases.analytics.models import CaseFact, FigurePending
from cases.intake import file_dispute
from mediation.settings import Settings
from tests.support.factories import filing_fields, party_ids

NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


async def test_the_recount_figures_command(db: None, settings: Settings, tmp_path: Path) -> None:
    for n in range(2):
        await file_dispute(settings, filing_fields(**party_ids(n)), [], Filer(user_id=None), NOW)
    assert await FigurePending.exists() and not await CaseFact.exists()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "MEDIATION_DATA_DIR": str(tmp_path / "cli-data"),
    }
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "mediation.cli", "recount-figures"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "figures recounted from 2 cases" in done.stdout
    assert await CaseFact.all().count() == 2
    assert not await FigurePending.exists()
