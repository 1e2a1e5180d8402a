"""The partner API over HTTP: authentication, idempotent filing, field errors, status reads."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from tortoise.exceptions import IntegrityError

from cases.accounts.actions import do_create_partner
from cases.accounts.models import IdempotencyRecord, PartnerPlatform
from cases.models import Case, CaseNumberCounter, Evidence, Notice, Party
from tests.support.concurrency import rendezvous
from tests.support.factories import PDF_BYTES, api_filing_body, party_ids
from tests.support.live_server import run_server, run_with_orm

URL = "/api/v1/disputes"
CASE_NUMBER = re.compile(r"^CNM-\d{4}-[TI]-\d{5}$")


def create_partner(client: TestClient, name: str = "某旅游平台") -> str:
    async def create() -> str:
        _, key = await do_create_partner(name)
        return key

    return client.portal.call(create)


def headers(key: str, idempotency_key: str | None = "req-0001", **extra: str) -> dict[str, str]:
    sent = {"Authorization": f"Bearer {key}", **extra}
    if idempotency_key is not None:
        sent["Idempotency-Key"] = idempotency_key
    return sent


async def _counts() -> dict[str, int]:
    return {
        "cases": await Case.all().count(),
        "parties": await Party.all().count(),
        "evidence": await Evidence.all().count(),
        "notices": await Notice.all().count(),
    }


def counts(client: TestClient) -> dict[str, int]:
    return client.portal.call(_counts)


NOTHING = {"cases": 0, "parties": 0, "evidence": 0, "notices": 0}


@pytest.fixture
def api_key(client: TestClient) -> str:
    return create_partner(client)


def test_a_partner_files_a_dispute(client: TestClient, api_key: str) -> None:
    response = client.post(URL, json=api_filing_body(), headers=headers(api_key))

    assert response.status_code == 201, response.text
    assert "idempotent-replayed" not in response.headers
    answer = response.json()
    assert CASE_NUMBER.match(answer["case_number"]), answer
    assert answer["status"] == "awaiting_consent"
    assert answer["partner_reference"] == "ORDER-20261105-0001"
    assert answer["respondent_reply_due"]

    async def stored() -> tuple[Case, list[Evidence]]:
        case = await Case.get(number=answer["case_number"]).prefetch_related("partner")
        return case, await Evidence.filter(case=case)

    case, evidence = client.portal.call(stored)
    assert case.partner is not None and case.partner.name == "某旅游平台"
    assert str(case.source) == "partner"
    assert [(e.filename, e.media_type) for e in evidence] == [("合同.pdf", "application/pdf")]


def test_a_retried_request_replays_the_first_answer(client: TestClient, api_key: str) -> None:
    body = api_filing_body()
    first = client.post(URL, json=body, headers=headers(api_key))
    again = client.post(URL, json=body, headers=headers(api_key))

    assert first.status_code == 201, first.text
    assert again.status_code == first.status_code
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert counts(client)["cases"] == 1


def test_a_retried_request_without_a_reference_replays_the_first_answer(
    client: TestClient, api_key: str
) -> None:
    """No partner_reference: only the (partner, Idempotency-Key) claim stops a second case."""
    body = api_filing_body(partner_reference=None)
    first = client.post(URL, json=body, headers=headers(api_key, "retry-noref"))
    again = client.post(URL, json=body, headers=headers(api_key, "retry-noref"))

    assert first.status_code == 201, first.text
    assert first.json()["partner_reference"] is None
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["idempotent-replayed"] == "true"
    assert counts(client)["cases"] == 1


def test_concurrent_identical_requests_without_a_reference_file_one_case(
    client: TestClient, api_key: str
) -> None:
    """No partner_reference, so the (partner, key) unique index is all that stands between
    five simultaneous copies and five cases. Proves the claim on PostgreSQL only: each
    request is held right after claiming the key (`partner_filing`), so without the claim
    all five arrive there together and each files a case, every time. On SQLite one
    transaction runs at a time: it checks the answers."""
    body = api_filing_body(partner_reference=None)

    async def fire() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await asyncio.gather(
                *(http.post(URL, json=body, headers=headers(api_key, "noref-1")) for _ in range(5))
            )

    with rendezvous("partner_filing", parties=5) as point:
        responses = client.portal.call(fire)

    summary = [(r.status_code, r.headers.get("idempotent-replayed"), r.text) for r in responses]
    assert point.arrived >= 1, summary
    assert sorted(r.status_code for r in responses) == [201] * 5, summary
    assert [r.headers.get("idempotent-replayed") for r in responses].count("true") == 4, summary
    assert len({r.json()["case_number"] for r in responses}) == 1, summary
    assert counts(client)["cases"] == 1


def test_one_content_sent_twice_in_one_filing_is_one_evidence_item(
    client: TestClient, api_key: str
) -> None:
    body = api_filing_body(evidence=[("合同.pdf", PDF_BYTES), ("合同-副本.pdf", PDF_BYTES)])
    response = client.post(URL, json=body, headers=headers(api_key))
    assert response.status_code == 201, response.text

    async def stored() -> list[str]:
        return [
            e.filename for e in await Evidence.filter(case__number=response.json()["case_number"])
        ]

    assert client.portal.call(stored) == ["合同.pdf"]


def test_the_same_key_with_another_body_is_refused(client: TestClient, api_key: str) -> None:
    first = client.post(URL, json=api_filing_body(), headers=headers(api_key))
    assert first.status_code == 201, first.text
    before = counts(client)

    other = client.post(URL, json=api_filing_body(claim_amount="100.00"), headers=headers(api_key))

    assert other.status_code == 422
    assert other.json()["error"] == "idempotency_key_reused"
    assert other.json()["message"] == "该 Idempotency-Key 已用于内容不同的请求。"
    assert counts(client) == before


@pytest.mark.parametrize(
    ("idempotency_key", "code"),
    [
        (None, "idempotency_key_required"),
        ("", "idempotency_key_required"),
        ("   ", "idempotency_key_invalid"),
        ("k" * 256, "idempotency_key_invalid"),
        ("key with\ttab", "idempotency_key_invalid"),
    ],
)
def test_a_missing_or_malformed_idempotency_key_is_refused(
    client: TestClient, api_key: str, idempotency_key: str | None, code: str
) -> None:
    response = client.post(URL, json=api_filing_body(), headers=headers(api_key, idempotency_key))

    assert response.status_code == 400
    assert response.json()["error"] == code
    assert counts(client) == NOTHING


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        (b"{not json", "invalid_json", "请求体必须是 JSON 对象。"),
        (b"\xff\xfe garbage", "invalid_json", "请求体必须是 JSON 对象。"),
        (b"[1, 2, 3]", "invalid_json", "请求体必须是 JSON 对象。"),
        (b'"a string"', "invalid_json", "请求体必须是 JSON 对象。"),
        (
            json.dumps({**api_filing_body(), "facts": ["a", "list"]}).encode(),
            "invalid_field_type",
            "每个字段的类型须与 API 说明一致：文本；各项同意及仲裁条款为 true 或 false。",
        ),
        (
            json.dumps({**api_filing_body(), "evidence": ["not an object"]}).encode(),
            "invalid_evidence",
            "证据必须是对象列表，每个对象包含文件名及其 base64 编码的内容。",
        ),
    ],
)
def test_a_malformed_body_is_refused(
    client: TestClient, api_key: str, content: bytes, code: str, message: str
) -> None:
    response = client.post(
        URL,
        content=content,
        headers=headers(api_key, **{"Content-Type": "application/json"}),
    )

    assert response.status_code == 400
    assert response.json() == {"error": code, "message": message}
    assert counts(client) == NOTHING


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer nodot",
        "Basic dXNlcjpwYXNz",
        "Bearer 00000000.wrong-secret",
        "WRONG-PREFIX",  # replaced below by the right prefix with a wrong secret
    ],
)
def test_no_valid_api_key_is_refused(
    client: TestClient, api_key: str, authorization: str | None
) -> None:
    sent = {"Idempotency-Key": "req-0001"}
    if authorization == "WRONG-PREFIX":
        authorization = f"Bearer {api_key.split('.', 1)[0]}.not-the-secret"
    if authorization is not None:
        sent["Authorization"] = authorization

    response = client.post(URL, json=api_filing_body(), headers=sent)

    assert response.status_code == 401
    assert response.json() == {"error": "unauthorised", "message": "需要有效的 API 密钥。"}
    assert counts(client) == NOTHING


def test_an_inactive_partner_is_refused(client: TestClient, api_key: str) -> None:
    async def deactivate() -> None:
        await PartnerPlatform.all().update(is_active=False)

    client.portal.call(deactivate)

    response = client.post(URL, json=api_filing_body(), headers=headers(api_key))

    assert response.status_code == 401
    assert counts(client) == NOTHING


def _invalid_body() -> dict[str, Any]:
    return api_filing_body(
        applicant_mobile="12345",
        claim_amount="-5",
        facts="",
        consent_voluntary="",  # becomes false
    )


def test_invalid_fields_are_described_in_chinese_by_default(
    client: TestClient, api_key: str, settings: Any
) -> None:
    response = client.post(URL, json=_invalid_body(), headers=headers(api_key))

    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["error"] == "invalid_input"
    assert answer["message"] == "部分内容填写有误。"
    assert answer["fields"] == {
        "applicant_mobile": {
            "code": "mobile_invalid",
            "message": "请输入以 1 开头的 11 位内地手机号。",
        },
        "claim_amount": {"code": "amount_not_positive", "message": "金额必须大于零。"},
        "facts": {"code": "required", "message": "此项为必填项。"},
        "consent_voluntary": {"code": "consent_required", "message": "请阅读并勾选确认此项。"},
    }
    assert answer["files"] == []
    assert counts(client) == NOTHING
    evidence_dir: Path = settings.evidence_dir
    assert not evidence_dir.exists() or not any(evidence_dir.rglob("*"))


def test_invalid_fields_are_described_in_english_on_request(
    client: TestClient, api_key: str
) -> None:
    response = client.post(
        URL, json=_invalid_body(), headers=headers(api_key, **{"Accept-Language": "en"})
    )

    assert response.status_code == 422
    answer = response.json()
    assert answer["message"] == "Some fields are not valid."
    assert answer["fields"]["facts"] == {"code": "required", "message": "This field is required."}
    assert answer["fields"]["claim_amount"] == {
        "code": "amount_not_positive",
        "message": "The amount must be greater than zero.",
    }
    assert counts(client) == NOTHING


def test_a_rejected_file_is_described(client: TestClient, api_key: str) -> None:
    body = api_filing_body(evidence=[("病毒.pdf", b"MZ\x90\x00" + b"\x00" * 60)])

    response = client.post(URL, json=body, headers=headers(api_key))

    assert response.status_code == 422
    [problem] = response.json()["files"]
    assert problem["filename"] == "病毒.pdf"
    assert problem["code"].startswith("evidence_")
    assert "病毒.pdf" in problem["message"]
    assert counts(client) == NOTHING


def test_a_retry_replays_the_field_errors(client: TestClient, api_key: str) -> None:
    first = client.post(URL, json=_invalid_body(), headers=headers(api_key))
    again = client.post(URL, json=_invalid_body(), headers=headers(api_key))

    assert first.status_code == again.status_code == 422
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert counts(client) == NOTHING


def test_a_known_partner_reference_replays_its_case(client: TestClient, api_key: str) -> None:
    first = client.post(URL, json=api_filing_body(), headers=headers(api_key, "req-0001"))
    assert first.status_code == 201, first.text
    before = counts(client)

    again = client.post(URL, json=api_filing_body(), headers=headers(api_key, "req-0002"))

    assert again.status_code == 200, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["case_number"] == first.json()["case_number"]
    assert again.json()["partner_reference"] == "ORDER-20261105-0001"
    assert counts(client) == before


def test_filings_without_a_partner_reference_are_separate_cases(
    client: TestClient, api_key: str
) -> None:
    first = client.post(
        URL, json=api_filing_body(partner_reference=None), headers=headers(api_key, "req-0001")
    )
    # Another dispute (another applicant and respondent): the same one would be merged
    # (one dispute, one number: tests/mediation/test_duplicates_partner.py).
    second = client.post(
        URL,
        json=api_filing_body(partner_reference=None, **party_ids(2)),
        headers=headers(api_key, "req-0002"),
    )

    assert first.status_code == second.status_code == 201, (first.text, second.text)
    assert first.json()["case_number"] != second.json()["case_number"]
    assert counts(client)["cases"] == 2


def test_a_database_conflict_without_a_reference_replays_no_other_case(
    client: TestClient, api_key: str
) -> None:
    """A unique-index failure other than the key's must not answer with an unrelated case."""
    first = client.post(
        URL, json=api_filing_body(partner_reference=None), headers=headers(api_key, "req-0001")
    )
    assert first.status_code == 201, first.text

    async def rewind_numbering() -> None:  # the next filing collides on the case number
        await CaseNumberCounter.all().update(last_serial=0)

    client.portal.call(rewind_numbering)

    with pytest.raises(IntegrityError):
        client.post(
            URL,
            json=api_filing_body(partner_reference=None, claim_amount="99.00", **party_ids(2)),
            headers=headers(api_key, "req-0002"),
        )
    assert counts(client)["cases"] == 1


def test_the_filing_partner_reads_the_status(client: TestClient, api_key: str) -> None:
    filed = client.post(URL, json=api_filing_body(), headers=headers(api_key)).json()
    number = filed["case_number"]

    response = client.get(f"{URL}/{number}", headers={"Authorization": f"Bearer {api_key}"})

    assert response.status_code == 200, response.text
    status = response.json()
    assert status["case_number"] == number
    assert status["status"] == "awaiting_consent"
    assert status["partner_reference"] == "ORDER-20261105-0001"
    assert [(h["from"], h["to"]) for h in status["history"]] == [("submitted", "awaiting_consent")]
    assert status["history"] == filed["history"]


def test_another_partner_cannot_read_the_status(client: TestClient, api_key: str) -> None:
    number = client.post(URL, json=api_filing_body(), headers=headers(api_key)).json()[
        "case_number"
    ]
    other_key = create_partner(client, "某外卖平台")

    response = client.get(f"{URL}/{number}", headers={"Authorization": f"Bearer {other_key}"})
    missing = client.get(f"{URL}/CNM-2026-T-99999", headers={"Authorization": f"Bearer {api_key}"})
    anonymous = client.get(f"{URL}/{number}")

    assert response.status_code == 404
    assert response.json() == {
        "error": "case_not_found",
        "message": "案件不存在，或您无权查看。",
    }
    assert missing.status_code == 404
    assert anonymous.status_code == 401


def test_another_partner_may_use_the_same_key_and_reference(
    client: TestClient, api_key: str
) -> None:
    other_key = create_partner(client, "某外卖平台")

    first = client.post(URL, json=api_filing_body(), headers=headers(api_key))
    # Another dispute: the same one from another partner is merged (test_duplicates_partner).
    second = client.post(URL, json=api_filing_body(**party_ids(2)), headers=headers(other_key))

    assert first.status_code == second.status_code == 201
    assert first.json()["case_number"] != second.json()["case_number"]


# -- Concurrency against a real server ----------------------------------------------------


@pytest.fixture
def live_partner(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A running server on a migrated database holding one partner: (base URL, API key)."""

    async def seed() -> str:
        _, key = await do_create_partner("某旅游平台")
        return key

    key = run_with_orm(database_url, seed)
    env = {
        "DATABASE_URL": database_url,
        "MEDIATION_DATA_DIR": str(tmp_path / "data"),
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": "1",
        "BASE_URL": "http://testserver",
    }
    with run_server(env) as base_url:
        yield base_url, key


def test_concurrent_identical_requests_file_one_case(
    live_partner: tuple[str, str], database_url: str
) -> None:
    base_url, key = live_partner
    body = api_filing_body()

    async def fire() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            return await asyncio.gather(
                *(http.post(URL, json=body, headers=headers(key, "race-0001")) for _ in range(5))
            )

    responses = asyncio.run(fire())

    summary = [(r.status_code, r.headers.get("idempotent-replayed"), r.text) for r in responses]
    assert all(r.status_code < 500 for r in responses), summary
    fresh = [r for r in responses if "idempotent-replayed" not in r.headers]
    replayed = [r for r in responses if r.headers.get("idempotent-replayed") == "true"]
    assert [r.status_code for r in fresh] == [201], summary
    assert len(replayed) == 4, summary
    assert all(r.status_code in (200, 201) for r in replayed), summary
    numbers = {r.json()["case_number"] for r in responses}
    assert len(numbers) == 1, summary
    assert CASE_NUMBER.match(numbers.pop())

    async def stored() -> tuple[int, int]:
        return await Case.all().count(), await IdempotencyRecord.all().count()

    assert run_with_orm(database_url, stored) == (1, 1)


def test_concurrent_requests_with_one_reference_file_one_case(
    live_partner: tuple[str, str], database_url: str
) -> None:
    """Retries that each carry a fresh key still file the partner's order only once."""
    base_url, key = live_partner
    body = api_filing_body()

    async def fire() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            return await asyncio.gather(
                *(http.post(URL, json=body, headers=headers(key, f"race-{n}")) for n in range(5))
            )

    responses = asyncio.run(fire())

    summary = [(r.status_code, r.text) for r in responses]
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 201], summary
    assert len({r.json()["case_number"] for r in responses}) == 1, summary

    async def stored() -> int:
        return await Case.all().count()

    assert run_with_orm(database_url, stored) == 1
