"""The routing and deadline routes refuse everyone who is not on the case, with a plain 404,
and change nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

from cases.accounts.models import Role, User
from cases.models import Case, TimelineEvent
from cases.routing.models import MediatorChoice
from mediation.settings import Settings
from tests.support.factories import (
    STAFF_PASSWORD,
    cheap_password_hashing,
    create_staff,
    csrf_of,
    file_and_consent,
    new_mediator,
    new_organisation,
    register,
    run,
    switch_to,
)

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # a Tuesday


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


def world(client: TestClient, settings: Settings) -> tuple[str, int, int]:
    register(client, "13812345678", "applicant pass 1", "张三")
    applicant = run(client, User.get, mobile="13812345678")
    client.cookies.clear()
    register(client, "13700002222", "bystander pass 1", "李四")
    client.cookies.clear()

    async def build() -> tuple[str, int, int]:
        org = await new_organisation("ORG1", categories=("tour_refund",))
        other = await new_organisation("ORG2", categories=("tour_refund",))
        mediator = await new_mediator("med_one", org.id, specialties=["tour_refund"])
        await new_mediator("med_other", other.id, specialties=["tour_refund"])
        case = await file_and_consent(settings, NOW, filer_user_id=applicant.id)
        # Put the case on ORG1 whatever triage chose, so the roles below are meaningful.
        await Case.filter(id=case.id).update(organisation_id=org.id)
        return case.number, org.id, mediator.id

    number, org_id, mediator_id = run(client, build)
    create_staff(
        client,
        "admin_other",
        Role.ORG_ADMIN,
        run(client, User.get, username="med_other").organisation_id,
    )
    create_staff(client, "clerk", Role.COURT_CLERK)
    return number, org_id, mediator_id


ROUTES = [
    ("choose-mediator", {"mediator_id": "{mediator_id}"}),
    ("change-mediator", {"reason": "不信任"}),
    ("answer", {"answer": "accept", "has_tie": "no"}),
    ("override-mediator", {"mediator_id": "{mediator_id}", "reason": "调整"}),
    ("override-organisation", {"organisation_id": "{org_id}", "reason": "调整"}),
    ("deadline/extend", {"days": "5", "reason": "同意", "parties_consent": "on"}),
    ("deadline/pause", {"reason": "鉴定"}),
]


@pytest.mark.parametrize(
    "who",
    [
        ("13700002222", "bystander pass 1"),
        ("med_other", STAFF_PASSWORD),
        ("admin_other", STAFF_PASSWORD),
        ("clerk", STAFF_PASSWORD),
    ],
    ids=["other-disputant", "other-mediator", "other-org-admin", "court-clerk"],
)
def test_outsiders_get_404_or_403_and_nothing_changes(
    client: TestClient, settings: Settings, who: tuple[str, str]
) -> None:
    number, org_id, mediator_id = world(client, settings)
    events_before = run(client, TimelineEvent.filter(case__number=number).count)
    switch_to(client, *who)
    token = csrf_of(client, "/cases")
    for path, data in ROUTES:
        form = {k: v.format(mediator_id=mediator_id, org_id=org_id) for k, v in data.items()}
        answer = client.post(f"/cases/{number}/{path}", data={"csrf_token": token, **form})
        # 403 when the role may never do this at all; 404 when it might, but not on this case.
        assert answer.status_code in (403, 404), (path, answer.status_code)
        # The case number is in the page only as the address the visitor typed (language link).
        assert "旅行社" not in answer.text and "张三" not in answer.text
    assert run(client, TimelineEvent.filter(case__number=number).count) == events_before
    assert run(client, MediatorChoice.filter(case__number=number).count) == 0
    case = run(client, Case.get, number=number)
    assert case.status == "assigning" and case.mediator_id is None


def test_a_signed_out_visitor_is_sent_to_sign_in(client: TestClient, settings: Settings) -> None:
    number, _, _ = world(client, settings)
    client.cookies.clear()
    for path, _ in ROUTES:
        answer = client.post(f"/cases/{number}/{path}", data={}, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/signin")
    assert client.get("/work", follow_redirects=False).status_code == 303
