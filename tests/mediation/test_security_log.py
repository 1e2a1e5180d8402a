"""The security and access logs: written to the data folder, rotated daily and kept over six
months, and free of ID numbers, mobile numbers and anything a person wrote.

One test world goes through what the logs are for: a sign-in, a failed one, an
administrator's action, and a filing delivered to a (stand-in) court in another process.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from logging.handlers import TimedRotatingFileHandler

import pytest
from starlette.testclient import TestClient

from cases.access import Viewer
from cases.accounts.models import Organisation, Role
from cases.court.actions import do_request_transfer
from cases.court.handoff import deliver_due
from cases.endings.actions import do_end_mediation
from mediation.settings import Settings
from tests.support import court_world as w
from tests.support.factories import (
    STAFF_PASSWORD,
    cheap_password_hashing,
    create_staff,
    csrf_of,
    resident_id,
    run,
    sign_in,
    switch_to,
    uscc,
)
from tests.support.fake_desk import FakeDesk, run_fake_desk
from tests.support.rooms import APPLICANT, MEDIATOR, OUTSIDER, RESPONDENT

PRIVATE_TEXTS = [
    w.CAUCUS_APPLICANT,
    w.CAUCUS_MEDIATOR,
    w.CAUCUS_RESPONDENT,
    w.CONCESSION_APPLICANT,
    w.CONCESSION_RESPONDENT,
    w.OFFER_TERMS,
    w.COUNTER_TERMS,
    w.REASONS,
    w.UNDISPUTED,
]


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


@pytest.fixture(scope="module")
def desk() -> Iterator[FakeDesk]:
    secret = Settings.__dataclass_fields__["court_filing_secret"].default
    assert isinstance(secret, str)
    with run_fake_desk(secret) as desk:
        yield desk


def test_the_logs_are_rotated_daily_and_kept_over_six_months(
    client: TestClient, settings: Settings
) -> None:
    for name, filename in (("security", "security.log"), ("access", "access.log")):
        (handler,) = [
            h for h in logging.getLogger(name).handlers if isinstance(h, TimedRotatingFileHandler)
        ]
        assert handler.baseFilename == str(settings.data_dir / "logs" / filename)
        assert handler.when == "MIDNIGHT"
        assert handler.backupCount >= 183
    client.get("/")
    assert "GET / 200 visitor" in (settings.data_dir / "logs" / "access.log").read_text()


def test_sign_ins_admin_actions_and_court_deliveries_are_logged_without_personal_data(
    client: TestClient, settings: Settings, desk: FakeDesk
) -> None:
    world = run(client, w.build_court_world, settings)
    # The mediator signs in; someone fails with the applicant's mobile; a stranger fails.
    sign_in(client, *MEDIATOR)
    client.cookies.clear()
    failed = client.post(
        "/signin",
        data={
            "csrf_token": csrf_of(client, "/signin"),
            "identifier": APPLICANT[0],
            "password": "not the password",
        },
    )
    assert failed.status_code == 401
    # An administrator creates a mediator account.
    org = run(client, Organisation.get, code="ROOMORG")
    create_staff(client, "log_admin", Role.PLATFORM_ADMIN)
    switch_to(client, "log_admin", STAFF_PASSWORD)
    created = client.post(
        "/admin/staff",
        data={
            "csrf_token": csrf_of(client, "/admin/staff"),
            "username": "new_mediator",
            "password": "new mediator 1",
            "role": "mediator",
            "display_name": "新调解员",
            "organisation": str(org.id),
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    # The mediation fails, the applicant asks for a transfer, the relay delivers it.
    now = datetime.now(UTC)
    failed_record = {
        "ending": "failed",
        "undisputed_facts": w.UNDISPUTED,
        "reasons_for_failure": w.REASONS,
        "cost_raising_conduct": w.COSTS,
    }
    mediator = Viewer(world.user_ids["mediator"], "mediator")
    run(client, do_end_mediation, mediator, world.case_number, failed_record, now)
    applicant = Viewer(world.user_ids["applicant"], "disputant")
    run(client, do_request_transfer, applicant, world.case_number, settings, now)
    to_desk = settings.with_(court_desk_url=desk.base_url)
    assert run(client, deliver_due, now + timedelta(minutes=1), to_desk) == 1

    security = (settings.data_dir / "logs" / "security.log").read_text()
    access = (settings.data_dir / "logs" / "access.log").read_text()
    mediator_id, applicant_id = world.user_ids["mediator"], world.user_ids["applicant"]
    assert f"sign-in: user {mediator_id} (mediator) from testclient" in security
    assert f"sign-in failed: user {applicant_id} from testclient" in security
    assert "admin action: POST /admin/staff by user" in security
    assert "court delivery " in security and " delivered (attempt 1, HTTP 201)" in security
    assert "POST /signin 401 visitor from testclient" in access
    assert "POST /admin/staff 303 user" in access

    identity = [resident_id(), uscc(), APPLICANT[0], RESPONDENT[0], OUTSIDER[0]]
    secrets = [APPLICANT[1], MEDIATOR[1], STAFF_PASSWORD, "not the password", "new mediator 1"]
    for text in (security, access):
        for value in [*identity, *secrets, *PRIVATE_TEXTS, world.case_number]:
            assert value not in text, f"{value!r} is in the log"
