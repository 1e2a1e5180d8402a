"""Property-based fuzzing of the JSON and form doors (issue 9).

Doors covered: the partner API's filing (JSON), registration, sign-in, the filing form, the
respondent's invitation answer (consent and refusal), the mediator's agreement editor.
Each gets bodies from hypothesis, written as raw bytes (so invalid UTF-8, NUL and control
characters reach the server as a hostile client sends them; a lone surrogate travels as
JSON's "\\ud800" or as its CESU-8 bytes) with a valid CSRF token, so the door's own parsing
is what is tested. Every answer must be below 500 (the test client re-raises any server
exception); afterwards no text or JSON column anywhere holds a string that is not storable
text (`do_repair_text(dry_run=True)` finds nothing) and the pages showing what was stored
render.

Bounded (`max_examples`, no deadline) for CI on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from cases.accounts.actions import do_create_partner
from mediation.app import create_app
from mediation.repair import do_repair_text
from mediation.settings import Settings
from tests.support.factories import (
    api_filing_body,
    cheap_password_hashing,
    csrf_of,
    file_case,
    filing_fields,
    invitation_path,
    register,
    run,
    sign_in,
)

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "60"))  # per door; more to dig deeper
FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,  # nothing written into the checkout; failures print their example
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

NASTY = ["\ud800", "\udfff", "\x00", "\x1b", "\x7f", "\ufffe", "\u202e", "长", "😀", "<", "%"]
texts = st.one_of(
    st.text(max_size=30),
    st.lists(st.sampled_from(NASTY) | st.text(max_size=3), max_size=8).map("".join),
)
# A form value as bytes: UTF-8 (lone surrogates as their CESU-8 bytes), or any bytes at all.
# Or longer than the columns (a lookup by an over-long value was a 500).
form_bytes = st.one_of(
    texts.map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.binary(max_size=40),
    st.tuples(st.sampled_from([b"1", b"a", "长".encode(), b"a@b.cn"]), st.integers(5, 400)).map(
        lambda unit_count: unit_count[0] * unit_count[1]
    ),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([2**63, 10**40])
    | st.floats(allow_nan=False)
    | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


@pytest.fixture
def app_client(settings: Settings) -> Iterator[TestClient]:
    """Like the suite's `client`, but made once per test: hypothesis runs many examples in
    one test, and the client must outlive them all."""
    with TestClient(create_app(settings, background_jobs=False)) as client:
        yield client


def urlencoded(fields: list[tuple[bytes, bytes]]) -> bytes:
    return "&".join(f"{quote_from_bytes(k)}={quote_from_bytes(v)}" for k, v in fields).encode()


def post_form(client: TestClient, path: str, token: str, fields: dict[bytes, bytes]) -> Any:
    body = urlencoded([(b"csrf_token", token.encode()), *fields.items()])
    response = client.post(
        path,
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert response.status_code < 500, response.text[:500]
    STATUSES[path.rsplit("/", 1)[-1]][response.status_code] += 1
    return response


def mutated(base: dict[str, str]) -> st.SearchStrategy[dict[bytes, bytes]]:
    """`base` with some of its fields (or new ones, named by any bytes) set to fuzzed bytes."""
    encoded = {k.encode(): v.encode() for k, v in base.items()}
    names = st.sampled_from(sorted(encoded)) | form_bytes
    changes = st.dictionaries(names, form_bytes, max_size=4)
    return changes.map(lambda changed: {**encoded, **changed})


def nothing_bad_stored(client: TestClient) -> None:
    found = run(client, do_repair_text, dry_run=True)
    assert found == {}, found


# Answers per form (the last part of its path) and status: printed, and checked so that a
# door answering only 403 (a CSRF mistake in the test) cannot pass for a fuzzed one.
STATUSES: defaultdict[str, Counter[int]] = defaultdict(Counter)


def report(door: str, count: list[int], started: float, *forms: str) -> None:
    answers = {form: dict(STATUSES[form]) for form in forms}
    print(f"fuzzed {door}: {count[0]} requests, {time.monotonic() - started:.1f} s {answers}")
    for form in forms:
        assert set(STATUSES[form]) - {403}, f"{form}: only {dict(STATUSES[form])}"


# --- JSON: the partner API -----------------------------------------------------------------


def test_fuzzed_partner_filings_get_a_4xx_or_a_case(app_client: TestClient) -> None:
    client = app_client

    async def create() -> str:
        return (await do_create_partner("模糊测试平台"))[1]

    key: str = run(client, create)
    valid = api_filing_body(partner_reference=None)
    bodies = st.one_of(
        st.dictionaries(st.sampled_from(sorted(valid)) | texts, json_values, max_size=4).map(
            lambda changes: json.dumps({**valid, **changes}).encode()
        ),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=80),
        st.sampled_from([b'{"claim_amount": ' + b"9" * 5000 + b"}", b"[" * 100_000]),
    )
    count, started, filed = [0], time.monotonic(), []

    # Mostly the partner's key; sometimes a forged one (a prefix of any length).
    forged = st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=300).map(
        lambda k: f"Bearer {k}.secret"
    )

    @FUZZ
    @given(body=bodies, authorization=st.none() | st.none() | forged)
    def fuzz(body: bytes, authorization: str | None) -> None:
        response = client.post(
            "/api/v1/disputes",
            content=body,
            headers={
                "Authorization": authorization or f"Bearer {key}",
                "Idempotency-Key": uuid.uuid4().hex,
                "Content-Type": "application/json",
            },
        )
        count[0] += 1
        STATUSES["disputes"][response.status_code] += 1
        assert response.status_code in (200, 201, 400, 401, 413, 422), response.text[:500]
        answer = response.json()
        if response.status_code >= 400:
            assert answer["error"] and answer["message"]
        else:
            filed.append(answer["case_number"])

    fuzz()
    report("partner API", count, started, "disputes")
    nothing_bad_stored(client)
    for number in filed:
        response = client.get(
            f"/api/v1/disputes/{number}", headers={"Authorization": f"Bearer {key}"}
        )
        assert response.status_code == 200


# --- forms ---------------------------------------------------------------------------------


def test_fuzzed_registration_and_sign_in(app_client: TestClient) -> None:
    client = app_client
    base = {"identifier": "13812345678", "password": "correct horse 1", "display_name": "张三"}
    count, started = [0], time.monotonic()

    @FUZZ
    @given(register_fields=mutated(base), signin_fields=mutated(base))
    def fuzz(register_fields: dict[bytes, bytes], signin_fields: dict[bytes, bytes]) -> None:
        client.cookies.clear()
        post_form(client, "/register", csrf_of(client, "/register"), register_fields)
        client.cookies.clear()
        post_form(client, "/signin", csrf_of(client, "/signin"), signin_fields)
        count[0] += 2

    fuzz()
    report("registration and sign-in", count, started, "register", "signin")
    nothing_bad_stored(client)


def test_fuzzed_filing_form(app_client: TestClient) -> None:
    client = app_client
    register(client)
    count, started = [0], time.monotonic()

    @FUZZ
    @given(fields=mutated(filing_fields()))
    def fuzz(fields: dict[bytes, bytes]) -> None:
        response = post_form(client, "/file", csrf_of(client, "/file"), fields)
        count[0] += 1
        if response.status_code == 303:
            page = client.get(response.headers["location"])
            assert page.status_code == 200

    fuzz()
    report("filing form", count, started, "file")
    nothing_bad_stored(client)
    assert client.get("/cases").status_code == 200


def test_fuzzed_invitation_answers(app_client: TestClient) -> None:
    client = app_client
    register(client)
    path = invitation_path(client, file_case(client))
    client.cookies.clear()
    consent = {
        "consent_voluntary": "on",
        "consent_service_address": "on",
        "consent_false_mediation": "on",
        "identifier": "13900001111",
        "password": "respondent pass 1",
        "display_name": "某旅行社",
    }
    count, started = [0], time.monotonic()

    @FUZZ
    @given(
        fields=mutated(consent),
        refusal=mutated({"reason": "我方已经退款，不同意调解。"}),
        refuse_first=st.booleans(),
    )
    def fuzz(fields: dict[bytes, bytes], refusal: dict[bytes, bytes], refuse_first: bool) -> None:
        client.cookies.clear()
        token = csrf_of(client, "/signin")  # the session's token (an answered page has no form)
        answers: list[Callable[[], Any]] = [
            lambda: post_form(client, f"{path}/refuse", token, refusal),
            lambda: post_form(client, f"{path}/consent", token, fields),
        ]
        for answer in answers if refuse_first else answers[::-1]:
            answer()
            count[0] += 1

    fuzz()
    report("invitation answers", count, started, "consent", "refuse")
    nothing_bad_stored(client)


def test_fuzzed_agreement_editor(app_client: TestClient, settings: Settings) -> None:
    from tests.support.agreements import MEDIATOR, build_agreement_world, draft

    client = app_client
    world = run(client, build_agreement_world, settings)
    sign_in(client, *MEDIATOR)
    editor = f"/cases/{world.number}/agreement/edit"
    base = {k: v for k, v in draft().items() if isinstance(v, str)}
    term = draft()["terms"][0]
    base.update({f"term_{k}": v for k, v in term.items()})
    count, started = [0], time.monotonic()

    @FUZZ
    @given(fields=mutated(base))
    def fuzz(fields: dict[bytes, bytes]) -> None:
        response = post_form(
            client, f"/cases/{world.number}/agreement/versions", csrf_of(client, editor), fields
        )
        count[0] += 1
        if response.status_code == 303:
            assert client.get(response.headers["location"]).status_code == 200

    fuzz()
    report("agreement editor", count, started, "versions")
    nothing_bad_stored(client)
    assert client.get(f"/cases/{world.number}/agreement").status_code == 200


def test_fuzzed_court_forms(app_client: TestClient, settings: Settings) -> None:
    """The mediator's end-of-mediation record, then the applicant's transfer to the court."""
    from tests.support.agreements import APPLICANT, MEDIATOR, build_agreement_world

    client = app_client
    world = run(client, build_agreement_world, settings)
    end = {
        "ending": "failed",
        "undisputed_facts": "双方对旅游合同的签订及团费金额无异议。",
        "reasons_for_failure": "双方对退款金额分歧较大，未能达成一致。",
        "cost_raising_conduct": "",
    }
    count, started = [0], time.monotonic()

    @FUZZ
    @given(end_fields=mutated(end), transfer_fields=mutated({"wire_format": "json"}))
    def fuzz(end_fields: dict[bytes, bytes], transfer_fields: dict[bytes, bytes]) -> None:
        client.cookies.clear()
        sign_in(client, *MEDIATOR)
        post_form(client, f"/cases/{world.number}/end", csrf_of(client, "/"), end_fields)
        client.cookies.clear()
        sign_in(client, *APPLICANT)
        path = f"/cases/{world.number}/court/transfer"
        post_form(client, path, csrf_of(client, "/"), transfer_fields)
        count[0] += 2

    fuzz()
    report("court forms", count, started, "end", "transfer")
    nothing_bad_stored(client)
    assert client.get(f"/cases/{world.number}").status_code == 200


def test_fuzzed_agreement_signing(app_client: TestClient, settings: Settings) -> None:
    """A party signing the version put up for signature (password or SMS code, and the hash
    of the text they read)."""
    from cases.agreements.models import AgreementVersion
    from tests.support.agreements import APPLICANT, MEDIATOR, build_agreement_world, draft

    client = app_client
    world = run(client, build_agreement_world, settings)
    sign_in(client, *MEDIATOR)
    agreement = f"/cases/{world.number}/agreement"
    editor = {k: v for k, v in draft().items() if isinstance(v, str)}
    editor.update({f"term_{k}": v for k, v in draft()["terms"][0].items()})
    token = csrf_of(client, f"{agreement}/edit")
    encoded = {k.encode(): v.encode() for k, v in editor.items()}
    assert post_form(client, f"{agreement}/versions", token, encoded).status_code == 303
    assert post_form(client, f"{agreement}/1/freeze", token, {}).status_code == 303
    version = run(client, AgreementVersion.get, case_id=world.case_id, number=1)
    client.cookies.clear()
    sign_in(client, *APPLICANT)
    base = {"method": "password", "password": APPLICANT[1], "sha256": version.sha256}
    count, started = [0], time.monotonic()

    @FUZZ
    @given(fields=mutated(base))
    def fuzz(fields: dict[bytes, bytes]) -> None:
        post_form(client, f"{agreement}/1/sign", csrf_of(client, agreement), fields)
        count[0] += 1

    fuzz()
    report("agreement signing", count, started, "sign")
    nothing_bad_stored(client)
    assert client.get(f"{agreement}/1").status_code == 200
