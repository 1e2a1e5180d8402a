"""`mediation court export`: the package that would be sent, for inspection, as a real process
runs it. The ECF output is checked against the OASIS schemas; neither format carries room
content."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from courtwire import ecf
from mediation.settings import Settings
from tests.support import court_world as w
from tests.support.live_server import run_with_orm
from tests.support.rooms import cheap_hashing


@pytest.fixture
def failed_case(database_url: str, settings: Settings) -> str:
    async def seed() -> str:
        from cases.access import Viewer
        from cases.endings.actions import do_end_mediation

        with cheap_hashing():
            world = await w.build_court_world(settings)
        await do_end_mediation(
            Viewer(world.user_ids["mediator"], "mediator"),
            world.case_number,
            {
                "ending": "failed",
                "undisputed_facts": w.UNDISPUTED,
                "reasons_for_failure": w.REASONS,
                "cost_raising_conduct": w.COSTS,
            },
            datetime.now(UTC),
        )
        return world.case_number

    return run_with_orm(database_url, seed)


def export(database_url: str, settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MEDIATION_DATA_DIR": str(settings.data_dir),
        "SECRET_KEY": settings.secret_key,
        "BASE_URL": "https://mediation.example",
    }
    return subprocess.run(
        [sys.executable, "-m", "mediation.cli", "court", "export", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_export_json_to_stdout(database_url: str, settings: Settings, failed_case: str) -> None:
    done = export(database_url, settings, failed_case, "--format", "json")
    assert done.returncode == 0, done.stderr
    event = json.loads(done.stdout)
    assert event["type"] == "cn.changning.mediation.court.transfer.v1"
    assert event["subject"] == failed_case
    data = event["data"]
    assert data["failure"]["undisputed_facts"] == w.UNDISPUTED
    assert all(item["url"].startswith("/court/evidence/") for item in data["evidence"])
    assert [p for p in w.PRIVILEGED if p in done.stdout] == []


def test_export_ecf_to_a_file_is_schema_valid(
    database_url: str, settings: Settings, failed_case: str, tmp_path: Path
) -> None:
    out = tmp_path / "filing.xml"
    done = export(database_url, settings, failed_case, "--format", "ecf", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "application/xml written to" in done.stdout
    xml = out.read_bytes()
    root = etree.fromstring(xml)
    schema = ecf.core_filing_validator()
    assert schema.validate(root), schema.error_log
    assert root.tag == f"{{{ecf.NS_CORE}}}CoreFilingMessage"
    text = xml.decode("utf-8")
    assert failed_case in text
    assert [p for p in w.PRIVILEGED if p in text] == []
    # Evidence links are there for the court to fetch.
    locations = root.findall(".//nc:BinaryLocationURI", ecf.NSMAP)
    assert len(locations) == 2


def test_export_of_an_unknown_case(database_url: str, settings: Settings) -> None:
    done = export(database_url, settings, "CNM-2026-T-99999")
    assert done.returncode == 2
    assert "no case numbered CNM-2026-T-99999" in done.stderr


def court_command(
    database_url: str, settings: Settings, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MEDIATION_DATA_DIR": str(settings.data_dir),
        "SECRET_KEY": settings.secret_key,
    }
    return subprocess.run(
        [sys.executable, "-m", "mediation.cli", "court", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_revoke_links_from_the_command_line(
    database_url: str, settings: Settings, failed_case: str
) -> None:
    async def transferred() -> str:
        from cases.access import Viewer
        from cases.court.actions import do_request_transfer
        from cases.models import Case

        case = await Case.get(number=failed_case)
        applicant = await case.parties.filter(side="applicant").first()
        assert applicant is not None and applicant.user_id is not None
        filing = await do_request_transfer(
            Viewer(applicant.user_id, "disputant"), failed_case, settings, datetime.now(UTC)
        )
        return filing.filing_id

    filing_id = run_with_orm(database_url, transferred)
    done = court_command(database_url, settings, "revoke-links", filing_id)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"the links of filing {filing_id} are revoked"
    again = court_command(database_url, settings, "revoke-links", filing_id)
    assert again.stdout.strip() == f"the links of filing {filing_id} were revoked already"
    unknown = court_command(database_url, settings, "revoke-links", "no-such-filing")
    assert unknown.returncode == 2
    assert unknown.stderr.strip().endswith("\nno filing no-such-filing")

    async def stored() -> tuple[str, bool]:
        from cases.models import CourtFiling

        filing = await CourtFiling.get(filing_id=filing_id)
        return filing.links_revoked_reason, filing.links_revoked_at is not None

    assert run_with_orm(database_url, stored) == ("admin", True)
