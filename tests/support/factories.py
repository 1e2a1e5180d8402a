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
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


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
