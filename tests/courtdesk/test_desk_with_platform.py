"""The platform and the court desk, each a real server in its own process with its own
database, talking only over the wire: a failed mediation is transferred, the platform's relay
delivers the signed filing, a clerk opens its evidence (fetched from the platform through its
capability link and checked) and dockets it, and the desk's signed callback moves the case
on the platform to docketed with the 案号."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

from cases.access import Viewer
from cases.court.actions import do_request_transfer
from cases.endings.actions import do_end_mediation
from cases.models import Case, CourtFiling, FilingStatus
from cases.status import Status
from courtdesk.models import Filing as DeskFiling
from mediation.settings import Settings
from tests.courtdesk.support import (
    CALLBACK_SECRET,
    FILING_SECRET,
    csrf_of,
    make_clerk,
    run_desk,
    signed_in_client,
    with_desk_orm,
)
from tests.courtdesk.support import wait_for as wait_for_in_another_process
from tests.support import court_world as w
from tests.support.live_server import free_port, run_server, run_with_orm
from tests.support.rooms import cheap_hashing

T = TypeVar("T")
TIMEOUT = 30.0  # the platform's background jobs run every 5 s


wait_for = partial(wait_for_in_another_process, timeout=TIMEOUT)


def test_a_transfer_goes_to_the_desk_and_comes_back_docketed(
    settings: Settings, database_url: str, desk_database_url: str
) -> None:
    platform_port = free_port()
    platform_url = f"http://127.0.0.1:{platform_port}"
    make_clerk(desk_database_url)
    with run_desk(desk_database_url, platform_url=platform_url) as desk:
        # The filing is queued while the platform believed itself elsewhere (a demo started
        # on another port, a renamed host): the desk still opens its evidence, through its
        # own PLATFORM_URL (issue 9, finding 10).
        platform_settings = settings.with_(
            base_url="http://127.0.0.1:1",
            court_desk_url=desk.url,
            court_filing_secret=FILING_SECRET,
            court_callback_secret=CALLBACK_SECRET,
        )

        async def transferred() -> tuple[w.CourtWorld, str]:
            with cheap_hashing():
                world = await w.build_court_world(platform_settings)
            now = datetime.now(UTC)
            form = {
                "ending": "failed",
                "undisputed_facts": w.UNDISPUTED,
                "reasons_for_failure": w.REASONS,
                "cost_raising_conduct": w.COSTS,
            }
            mediator = Viewer(world.user_ids["mediator"], "mediator")
            applicant = Viewer(world.user_ids["applicant"], "disputant")
            await do_end_mediation(mediator, world.case_number, form, now)
            filing = await do_request_transfer(applicant, world.case_number, platform_settings, now)
            return world, filing.filing_id

        world, filing_id = run_with_orm(database_url, transferred)
        env = {
            "DATABASE_URL": database_url,
            "MEDIATION_DATA_DIR": str(settings.data_dir),
            "SECRET_KEY": settings.secret_key,  # signs the evidence links in the package
            "BASE_URL": platform_url,
            "COURT_DESK_URL": desk.url,
            "COURT_FILING_SECRET": FILING_SECRET,
            "COURT_CALLBACK_SECRET": CALLBACK_SECRET,
        }
        with run_server(env, port=platform_port), signed_in_client(desk) as clerk:

            def arrived() -> str | None:
                async def probe() -> str | None:
                    found = await DeskFiling.get_or_none(filing_id=filing_id)
                    return found.case_number if found else None

                return with_desk_orm(desk_database_url, probe)

            assert wait_for("the filing at the desk", arrived) == world.case_number
            page = clerk.get(f"/filings/{filing_id}")
            assert page.status_code == 200
            assert w.REASONS in page.text
            for privileged in w.PRIVILEGED:
                assert privileged not in page.text, privileged
            # Evidence through the platform's capability link, checked against its digest.
            links = re.findall(rf"/filings/{filing_id}/evidence/(\d+)", page.text)
            assert len(links) == len(world.evidence) == 2
            contract = clerk.get(f"/filings/{filing_id}/evidence/0")
            assert contract.status_code == 200, contract.text
            assert contract.content == w.CONTRACT

            token = csrf_of(page.text)
            docketed = clerk.post(
                f"/filings/{filing_id}/docket", data={"csrf_token": token, "type_code": "民初"}
            )
            assert docketed.status_code == 303
            number = re.search(
                r'id="court-case-number">([^<]+)<', clerk.get(f"/filings/{filing_id}").text
            )
            assert number is not None

            def came_back() -> tuple[str, str | None, str] | None:
                async def probe() -> tuple[str, str | None, str] | None:
                    filing = await CourtFiling.get(filing_id=filing_id)
                    if filing.status != FilingStatus.DOCKETED:
                        return None
                    case = await Case.get(id=filing.case_id)
                    return str(filing.status), filing.court_case_number, str(case.status)

                return run_with_orm(database_url, probe)

            status, court_case_number, case_status = wait_for("the docketing", came_back)
    assert court_case_number == number.group(1)
    assert re.fullmatch(r"\(\d{4}\)沪0105民初1号", court_case_number or "")
    assert case_status == Status.DOCKETED
    assert status == "docketed"
