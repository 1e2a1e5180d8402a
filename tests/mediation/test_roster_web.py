"""Organisation admins keep their own roster; nobody edits another organisation's."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from cases.accounts.models import MediatorLeave, MediatorProfile, Role, User
from tests.support.factories import (
    STAFF_PASSWORD,
    cheap_password_hashing,
    create_organisation,
    create_staff,
    csrf_of,
    run,
    switch_to,
    uscc,
)


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


def world(client: TestClient) -> tuple[int, int]:
    org_one = create_organisation(client, "ORG1")
    org_two = create_organisation(client, "ORG2")
    create_staff(client, "admin_one", Role.ORG_ADMIN, org_one.id)
    mine = create_staff(client, "mediator_one", Role.MEDIATOR, org_one.id)
    theirs = create_staff(client, "mediator_two", Role.MEDIATOR, org_two.id)
    return mine.id, theirs.id


def profile(client: TestClient, user_id: int) -> MediatorProfile:
    found: MediatorProfile = run(client, MediatorProfile.get, user_id=user_id)
    return found


def test_org_admin_sees_and_edits_only_their_roster(client: TestClient) -> None:
    mine, theirs = world(client)
    switch_to(client, "admin_one", STAFF_PASSWORD)

    page = client.get("/admin/roster")
    assert page.status_code == 200
    assert f"/admin/roster/{mine}" in page.text
    assert f"/admin/roster/{theirs}" not in page.text
    assert client.get(f"/admin/roster/{theirs}").status_code == 404

    token = csrf_of(client, f"/admin/roster/{mine}")
    saved = client.post(
        f"/admin/roster/{mine}",
        data={
            "csrf_token": token,
            "action": "profile",
            "specialties": ["tour_refund", "accommodation"],
            "languages": ["zh", "en"],
            "regions": "长宁区,徐汇区",
            "capacity": "12",
            "affiliations": uscc(),
            "is_active": "on",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    entry = profile(client, mine)
    assert entry.specialties == ["tour_refund", "accommodation"]
    assert entry.languages == ["zh", "en"]
    assert entry.regions == ["长宁区", "徐汇区"]
    assert entry.capacity == 12
    assert entry.affiliations == [uscc()]

    forbidden = client.post(
        f"/admin/roster/{theirs}",
        data={"csrf_token": token, "action": "profile", "languages": ["zh"], "capacity": "1"},
    )
    assert forbidden.status_code == 404
    assert profile(client, theirs).capacity == 20


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("affiliations", "91310105MA1FL00000", "统一社会信用代码无效"),
        ("capacity", "-1", "承办上限应为 0 至 500 之间的整数"),
        ("capacity", "many", "承办上限应为 0 至 500 之间的整数"),
        ("languages", "", "请选择一项"),
    ],
)
def test_bad_profile_input_is_refused_and_changes_nothing(
    client: TestClient, field: str, value: str, message: str
) -> None:
    mine, _ = world(client)
    switch_to(client, "admin_one", STAFF_PASSWORD)
    before = profile(client, mine)
    token = csrf_of(client, f"/admin/roster/{mine}")
    data = {"csrf_token": token, "action": "profile", "languages": "zh", "capacity": "5"}
    data[field] = value
    answer = client.post(f"/admin/roster/{mine}", data=data)
    assert answer.status_code == 422
    assert message in answer.text
    after = profile(client, mine)
    assert (after.capacity, after.languages, after.affiliations) == (
        before.capacity,
        before.languages,
        before.affiliations,
    )


def test_leave_is_recorded_and_bad_dates_refused(client: TestClient) -> None:
    mine, _ = world(client)
    switch_to(client, "admin_one", STAFF_PASSWORD)
    token = csrf_of(client, f"/admin/roster/{mine}")
    bad = client.post(
        f"/admin/roster/{mine}",
        data={
            "csrf_token": token,
            "action": "leave",
            "starts_on": "2026-12-10",
            "ends_on": "2026-12-01",
        },
    )
    assert bad.status_code == 422
    assert run(client, MediatorLeave.filter(mediator_id=mine).count) == 0
    good = client.post(
        f"/admin/roster/{mine}",
        data={
            "csrf_token": token,
            "action": "leave",
            "starts_on": "2026-12-01",
            "ends_on": "2026-12-10",
            "reason": "年假",
        },
        follow_redirects=False,
    )
    assert good.status_code == 303
    assert run(client, MediatorLeave.filter(mediator_id=mine).count) == 1


def test_org_admin_adds_mediators_to_their_own_organisation_only(client: TestClient) -> None:
    world(client)
    switch_to(client, "admin_one", STAFF_PASSWORD)
    admin = run(client, User.get, username="admin_one")
    other_org = run(client, User.get, username="mediator_two")
    token = csrf_of(client, "/admin/staff")
    base = {"csrf_token": token, "display_name": "新调解员", "password": "long enough pw"}

    created = client.post(
        "/admin/staff",
        data={
            **base,
            "username": "new_mediator",
            "role": "mediator",
            "organisation": str(admin.organisation_id),
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    new = run(client, User.get, username="new_mediator")
    assert run(client, MediatorProfile.exists, user_id=new.id)

    for role, org in (
        ("court_clerk", admin.organisation_id),
        ("mediator", other_org.organisation_id),
    ):
        refused = client.post(
            "/admin/staff",
            data={**base, "username": f"x_{role}", "role": role, "organisation": str(org)},
        )
        assert refused.status_code == 403
        assert not run(client, User.exists, username=f"x_{role}")
