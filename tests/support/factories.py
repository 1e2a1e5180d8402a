"""Valid inputs and users, made in one place so tests say only what differs."""

from __future__ import annotations

import re
from typing import Any

from starlette.testclient import TestClient

from cases.identity import resident_id_check_char, uscc_check_char


def resident_id(first17: str = "31010519900307123") -> str:
    return first17 + resident_id_check_char(first17)


def uscc(first17: str = "91310105MA1FL0000") -> str:
    return first17 + uscc_check_char(first17)


def filing_fields(**overrides: Any) -> dict[str, str]:
    fields = {
        "domain": "tourism",
        "category": "tour_refund",
        "applicant_kind": "natural_person",
        "applicant_name": "张三",
        "applicant_id_number": resident_id(),
        "applicant_mobile": "13812345678",
        "applicant_email": "zhangsan@example.com",
        "applicant_address": "上海市长宁区愚园路100号",
        "respondent_kind": "merchant",
        "respondent_name": "上海某某国际旅行社有限公司",
        "respondent_id_number": uscc(),
        "respondent_mobile": "13900001111",
        "respondent_email": "service@travel.example.com",
        "respondent_address": "上海市长宁区延安西路200号",
        "claim_amount": "3680.00",
        "facts": "2026年10月报名参加云南六日游，出发前三天旅行社单方取消行程，至今未退还团费。",
        "requested_outcome": "退还全部团费3680元。",
        "consent_voluntary": "on",
        "consent_service_address": "on",
        "consent_false_mediation": "on",
    }
    fields.update({k: str(v) for k, v in overrides.items()})
    return {k: v for k, v in fields.items() if v != "__omit__"}


PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# A PNG signature and the IHDR chunk of a 640 x 480 picture (uploads' declared pixel size is
# checked), then filler.
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x02\x80\x00\x00\x01\xe0\x08\x02\x00\x00\x00"
    + b"\x00" * 64
)


def csrf_of(client: TestClient, path: str) -> str:
    page = client.get(path)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, f"no CSRF token on {path} ({page.status_code})"
    return match.group(1)


def register(
    client: TestClient,
    identifier: str = "13812345678",
    password: str = "correct horse 1",
    name: str = "张三",
) -> None:
    token = csrf_of(client, "/register")
    response = client.post(
        "/register",
        data={
            "csrf_token": token,
            "identifier": identifier,
            "password": password,
            "display_name": name,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def sign_in(client: TestClient, identifier: str, password: str) -> None:
    token = csrf_of(client, "/signin")
    response = client.post(
        "/signin",
        data={"csrf_token": token, "identifier": identifier, "password": password},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def file_case(
    client: TestClient, files: list[tuple[str, bytes]] | None = None, **overrides: Any
) -> str:
    """File through the web form as the signed-in disputant; returns the case number."""
    token = csrf_of(client, "/file")
    upload = [
        ("evidence", (name, data, "application/octet-stream")) for name, data in (files or [])
    ]
    response = client.post(
        "/file",
        data={"csrf_token": token, **filing_fields(**overrides)},
        files=upload or None,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:3000]
    location = response.headers["location"]
    match = re.match(r"^/cases/(CNM-\d{4}-[TI]-\d{5})\?filed=1$", location)
    assert match, location
    return match.group(1)


def api_filing_body(
    partner_reference: str | None = "ORDER-20261105-0001",
    evidence: list[tuple[str, bytes]] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A partner API JSON body: the form's fields, consents as true booleans, base64 evidence."""
    import base64

    body: dict[str, Any] = dict(filing_fields(**overrides))
    for name, value in body.items():
        if name.startswith("consent_"):
            body[name] = value == "on"
    if partner_reference is not None:
        body["partner_reference"] = partner_reference
    files = [("合同.pdf", PDF_BYTES)] if evidence is None else evidence
    body["evidence"] = [
        {"filename": name, "content_base64": base64.b64encode(data).decode("ascii")}
        for name, data in files
    ]
    return body


# --- Helpers for tests that seed and inspect through a TestClient's portal. ---

STAFF_PASSWORD = "staff password 1"


def run(client: TestClient, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
    """Run an async function (with keyword arguments) in the app's event loop."""
    import functools

    return client.portal.call(functools.partial(fn, *args, **kwargs))


def create_organisation(client: TestClient, code: str, name: str = "长宁区人民调解委员会") -> Any:
    from cases.accounts.models import Organisation, Track

    return run(
        client,
        Organisation.create,
        code=code,
        name=f"{name} {code}",
        name_en=f"Mediation committee {code}",
        track=Track.PEOPLES,
    )


def create_staff(
    client: TestClient,
    username: str,
    role: Any,
    organisation_id: int | None = None,
    display_name: str = "工作人员",
) -> Any:
    from cases.accounts.actions import do_create_staff

    return run(
        client,
        do_create_staff,
        username=username,
        password=STAFF_PASSWORD,
        role=role,
        display_name=display_name,
        organisation_id=organisation_id,
    )


def switch_to(client: TestClient, identifier: str, password: str) -> None:
    """Drop the current session and sign in as someone else."""
    client.cookies.clear()
    sign_in(client, identifier, password)


async def _row_counts() -> dict[str, int]:
    from cases.accounts.models import LoginFailure, User
    from cases.models import Case, Evidence, Invitation, Notice, Party, TimelineEvent

    models: list[Any] = [
        Case,
        Party,
        Evidence,
        TimelineEvent,
        Notice,
        Invitation,
        User,
        LoginFailure,
    ]
    return {model.__name__: await model.all().count() for model in models}


def row_counts(client: TestClient) -> dict[str, int]:
    counts: dict[str, int] = client.portal.call(_row_counts)
    return counts


def invitation_path(client: TestClient, number: str) -> str:
    """The respondent's invitation link (path only), read from the queued e-mail notice."""
    from cases.models import Notice, NoticeChannel

    notice = run(
        client,
        Notice.get,
        case__number=number,
        channel=NoticeChannel.EMAIL,
        subject__contains="Mediation invitation",
    )
    match = re.search(r"http://testserver(/invitations/[A-Za-z0-9_\-.]+)", notice.body)
    assert match, notice.body
    return match.group(1)


def cheap_password_hashing(monkeypatch: Any) -> None:
    """Hash test passwords with tiny Argon2 costs: the production costs take ~0.25 s a hash
    here, and the cost parameters are not what these tests are about."""
    from argon2 import PasswordHasher

    from cases.accounts import actions as accounts

    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", hasher)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", hasher.hash("not-a-real-password"))


# --- Routing helpers (action level): call them in a `db` test, or via run(client, ...). ---


def party_ids(n: int) -> dict[str, str]:
    """Filing overrides giving case `n` its own applicant ID number and respondent USCC, so
    that cases do not share parties (a shared party is a prior-involvement conflict)."""
    return {
        "applicant_id_number": resident_id(f"31010519900307{n:03d}"),
        "respondent_id_number": uscc(f"91310105MA1FL{n:04d}"),
    }


async def new_organisation(
    code: str,
    *,
    track: str = "peoples",
    categories: tuple[str, ...] = ("tour_refund",),
    **fields: Any,
) -> Any:
    from cases.accounts.models import Organisation, Track

    return await Organisation.create(
        code=code,
        name=f"调解组织 {code}",
        name_en=f"Organisation {code}",
        track=Track(track),
        categories=list(categories),
        service_areas=["长宁区"],
        **fields,
    )


async def new_mediator(
    username: str,
    organisation_id: int,
    *,
    email: str | None = None,
    mobile: str | None = None,
    display_name: str | None = None,
    **profile: Any,
) -> Any:
    """A mediator on the organisation's roster; `profile` sets MediatorProfile fields
    (specialties, languages, capacity, affiliations, ...)."""
    from cases.accounts.actions import do_create_staff
    from cases.accounts.models import MediatorProfile, Role

    user = await do_create_staff(
        username=username,
        password=STAFF_PASSWORD,
        role=Role.MEDIATOR,
        display_name=display_name or f"调解员 {username}",
        organisation_id=organisation_id,
        email=email,
        mobile=mobile,
    )
    if profile:
        await MediatorProfile.filter(user=user).update(**profile)
    return user


async def file_and_consent(
    settings: Any,
    now: Any,
    *,
    filer_user_id: int | None = None,
    respondent_user_id: int | None = None,
    consent_at: Any = None,
    **overrides: Any,
) -> Any:
    """File a dispute through the intake action, then the respondent consents (which routes
    it). Returns the case as stored after routing."""
    from cases.actions import Filer
    from cases.intake import file_dispute
    from cases.models import Case, Invitation
    from cases.routing.assignment import do_respondent_consents

    case = await file_dispute(
        settings, filing_fields(**overrides), [], Filer(user_id=filer_user_id), now
    )
    invitation = await Invitation.get(case=case)
    await do_respondent_consents(invitation, respondent_user_id, consent_at or now)
    return await Case.get(id=case.id)
