"""schemathesis against the partner API over real HTTP (issue 9): every check on, bounded
examples, on the database the suite runs on (SQLite, or PostgreSQL with DATABASE_URL).

Passes only with no server error, no response outside the description, no schema-valid
filing refused (see schemathesis.toml for what "refused" means here) and no invalid one
accepted; and every status the description documents must have been answered at least once
(taken from schemathesis's HAR report, plus what random inputs cannot reach, sent here by
hand and checked against the description too: a case of this partner and its order, the moves
on a merchant's negotiation delegated to the partner, bodies too large, and 429 from a second
server with a tiny budget)."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import jsonschema

from cases.access import Viewer
from cases.accounts.actions import do_create_partner
from cases.accounts.models import Role
from cases.clock import local_date, utcnow
from cases.evidence_files import MAX_EVIDENCE_BYTES
from cases.negotiation.actions import do_delegate_answering, do_vouch_enrolment
from mediation.routes.partner_api import MAX_BODY
from tests.support.factories import PDF_BYTES, api_filing_body, resident_id, uscc
from tests.support.live_server import run_server, run_with_orm

MERCHANT_USCC = uscc("91310105MA1FL0099")

HERE = Path(__file__).resolve().parent
# Per operation and phase: 60 make about 6,000 requests over the eleven operations.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "60"))


def _templates(document: dict[str, Any]) -> list[tuple[re.Pattern[str], str]]:
    return [
        (re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(path)) + "$"), path)
        for path in document["paths"]
    ]


def _operation(
    templates: list[tuple[re.Pattern[str], str]], method: str, url: str
) -> tuple[str, str] | None:
    path = httpx.URL(url).path
    # The fixed path (batch) before the templated one it also matches.
    for pattern, template in sorted(templates, key=lambda t: t[1].count("{")):
        if pattern.match(path):
            return method, template
    return None


async def _seed() -> dict[str, Any]:
    """A partner for schemathesis, and a merchant that delegated to it (for the moves)."""
    partner, key = await do_create_partner("模糊测试平台")
    merchant = await do_vouch_enrolment(
        partner_id=partner.id,
        uscc=MERCHANT_USCC,
        name="上海某某网店有限公司",
        answer_days=10,
        handler_username="shop-st",
        handler_password="shop password 1",
        handler_name="客服",
        handler_email=None,
        handler_mobile=None,
        now=utcnow(),
    )
    admin = Viewer(user_id=1, role=str(Role.PLATFORM_ADMIN))
    await do_delegate_answering(admin, merchant.id, partner.id)
    return {"key": key}


def _delegated_filing(reference: str, applicant: int = 0) -> dict[str, Any]:
    return {
        **api_filing_body(
            partner_reference=reference,
            # Its own applicant: the same dispute filed again would be merged into the first.
            applicant_id_number=resident_id(f"31010519900307{applicant:03d}"),
            evidence=[],
            domain="internet",
            category="goods_quality",
            respondent_kind="merchant",
            respondent_name="上海某某网店有限公司",
            respondent_id_number=MERCHANT_USCC,
        ),
        "order": {
            "order_number": reference,
            "placed_at": "2026-11-01T09:30:00+08:00",
            "total_amount": "10.00",
        },
    }


class Coverage:
    """The statuses each documented operation answered, every answer checked against the
    description (its status documented, its JSON body valid against the documented schema)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.seen: dict[tuple[str, str], set[str]] = defaultdict(set)

    def check(self, method: str, template: str, response: httpx.Response) -> httpx.Response:
        status = str(response.status_code)
        operation = self.document["paths"][template][method.lower()]
        assert status in operation["responses"], (method, template, status, response.text)
        documented = operation["responses"][status].get("content", {}).get("application/json")
        if documented:
            schema = {**documented["schema"], "components": self.document["components"]}
            jsonschema.Draft202012Validator(schema).validate(response.json())
        self.seen[(method.upper(), template)].add(status)
        return response


def _by_hand(base: str, key: str, document: dict[str, Any], coverage: Coverage) -> None:
    """The answers random inputs cannot reach: a filed case of this partner and its order,
    attachments, the moves on a delegated negotiation, bodies too large."""
    auth = {"Authorization": f"Bearer {key}"}
    check = coverage.check
    http = httpx.Client(base_url=base, headers=auth, timeout=120)
    disputes = "/api/v1/disputes"
    one = "/api/v1/disputes/{case_number}"
    body = _delegated_filing("BY-HAND-1", applicant=901)
    filed = check(
        "POST", disputes, http.post(disputes, json=body, headers={"Idempotency-Key": "by-hand-1"})
    )
    number = filed.json()["case_number"]
    check("GET", one, http.get(f"/api/v1/disputes/{number}"))
    check("GET", one + "/order", http.get(f"/api/v1/disputes/{number}/order"))
    plain = check(
        "POST",
        disputes,
        http.post(
            disputes,
            json=api_filing_body(partner_reference="BY-HAND-2", evidence=[]),
            headers={"Idempotency-Key": "by-hand-2"},
        ),
    )
    check("GET", one + "/order", http.get(f"/api/v1/disputes/{plain.json()['case_number']}/order"))
    attach = one + "/attachments"
    url = f"/api/v1/disputes/{number}/attachments"
    for params, content in (
        ({"filename": "a.pdf"}, PDF_BYTES),
        ({"filename": "a.pdf"}, PDF_BYTES),
        ({"filename": "x.exe"}, b"MZ\x90\x00"),
        ({}, PDF_BYTES),
        ({"filename": "big.pdf"}, b"\0" * (MAX_EVIDENCE_BYTES + 1)),
    ):
        check("POST", attach, http.post(url, params=params, content=content))
    batch = "/api/v1/disputes/batch"
    check("POST", batch, http.post(batch, content=b'{"items": [{"x": "\\u0000"}]}'))
    check("POST", batch, http.post(batch, content=b" " * (MAX_BODY + 1)))
    negotiation = one + "/negotiation"
    check("GET", negotiation, http.get(f"/api/v1/disputes/{number}/negotiation"))
    moves = {
        "ask": ({"text": "请提供订单截图。"}, {"text": 5}, {"text": ""}),
        "reply": (None, {"thread_id": "1", "text": "x"}, {"thread_id": 1, "text": ""}),
        "propose": (
            {"kind": "apology", "perform_by": local_date(utcnow()).isoformat()},
            {"kind": 1, "perform_by": "x"},
            {"kind": "refund", "perform_by": "2000-01-01"},
        ),
        "decline": ({"reason": "不属于退款范围。"}, {"reason": 1}, {"reason": ""}),
    }
    question = http.post(f"/api/v1/disputes/{number}/negotiation/ask", json=moves["ask"][0])
    thread = question.json()["messages"][-1]["id"]
    moves["reply"] = ({"thread_id": thread, "text": "补充"}, *moves["reply"][1:])
    for move, (good, wrong_type, invalid) in moves.items():
        template, url = f"{negotiation}/{move}", f"/api/v1/disputes/{number}/negotiation/{move}"
        check("POST", template, http.post(url, json=wrong_type))
        check("POST", template, http.post(url, json=invalid))
        check("POST", template, http.post(url, content=b" " * (MAX_BODY + 1)))
        if move != "ask":
            check("POST", template, http.post(url, json=good))
    check("POST", f"{negotiation}/ask", question)
    for move, (good, _, _) in moves.items():  # declined: the negotiation has ended
        template, url = f"{negotiation}/{move}", f"/api/v1/disputes/{number}/negotiation/{move}"
        check("POST", template, http.post(url, json=good))
    # A dispute that is not this partner's (none has this number): 404 everywhere.
    for path, item in document["paths"].items():
        if "{case_number}" in path:
            for method in item:
                url = path.replace("{case_number}", "CNM-2026-I-99999")
                check(method.upper(), path, http.request(method.upper(), url, json={}))
    # Every operation without a key, and over a key's budget (a second server, low limit).
    for path, item in document["paths"].items():
        concrete = path.replace("{case_number}", number)
        for method in item:
            check(method.upper(), path, httpx.request(method.upper(), f"{base}{concrete}"))
    http.close()


def _rate_limited(
    database_url: str, key: str, document: dict[str, Any], coverage: Coverage
) -> None:
    env = {
        "DATABASE_URL": database_url,
        "PARTNER_RATE_PER_SECOND": "0.001",
        "PARTNER_RATE_BURST": "1",
        "MEDIATION_BACKGROUND_JOBS": "0",
    }
    with run_server(env) as base:
        auth = {"Authorization": f"Bearer {key}"}
        httpx.get(f"{base}/api/v1/disputes", headers=auth)  # the one token
        for path, item in document["paths"].items():
            for method in item:
                url = f"{base}{path.replace('{case_number}', 'CNM-2026-I-00001')}"
                coverage.check(
                    method.upper(), path, httpx.request(method.upper(), url, headers=auth)
                )


def test_schemathesis_finds_nothing_and_reaches_every_documented_status(
    database_url: str, tmp_path: Path
) -> None:
    key = run_with_orm(database_url, _seed)["key"]
    seed_value = int(os.environ.get("SCHEMATHESIS_SEED") or random.randrange(2**31))
    har = tmp_path / "run.har.json"
    with run_server({"DATABASE_URL": database_url}) as base:
        document = httpx.get(f"{base}/api/v1/openapi.json").json()
        coverage = Coverage(document)
        # A dispute of this partner against the merchant that delegated to it: the operations
        # on one dispute get its number, so schemathesis reaches their logic (not only 404).
        number = coverage.check(
            "POST",
            "/api/v1/disputes",
            httpx.post(
                f"{base}/api/v1/disputes",
                json=_delegated_filing("ST-CASE-1"),
                headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "st-case-1"},
            ),
        ).json()["case_number"]
        config = tmp_path / "schemathesis.toml"
        config.write_text(
            (HERE / "schemathesis.toml").read_text()
            + "\n[[operations]]\n"
            + 'include-path-regex = "^/api/v1/disputes/\\\\{case_number\\\\}"\n'
            + f'parameters = {{ "path.case_number" = "{number}" }}\n'
        )
        started = time.monotonic()
        run = subprocess.run(
            [
                str(Path(sys.executable).with_name("st")),
                "--config-file",
                str(config),
                "run",
                f"{base}/api/v1/openapi.json",
                "--checks",
                "all",
                "--max-examples",
                str(MAX_EXAMPLES),
                "--seed",
                str(seed_value),
                "--workers",
                "1",
                "--generation-database",
                "none",  # nothing written into the checkout; the seed is printed
                "--header",
                f"Authorization: Bearer {key}",
                "--report",
                "har",
                "--report-har-path",
                str(har),
                "--no-color",
            ],
            cwd=tmp_path,  # its caches go there, not into the checkout
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        seconds = time.monotonic() - started
        too_large = httpx.post(
            f"{base}/api/v1/disputes",
            content=b" " * (MAX_BODY + 1),
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "too-large-1"},
            timeout=60,
        )
        coverage.check("POST", "/api/v1/disputes", too_large)
        _by_hand(base, key, document, coverage)
    _rate_limited(database_url, key, document, coverage)
    report = run.stdout[-20000:]
    assert run.returncode == 0, f"schemathesis failed (seed {seed_value}):\n{report}"

    templates = _templates(document)
    entries = json.loads(har.read_text())["log"]["entries"]
    for entry in entries:
        operation = _operation(templates, entry["request"]["method"], entry["request"]["url"])
        if operation is not None:
            coverage.seen[operation].add(str(entry["response"]["status"]))
    seen = coverage.seen
    assert not [s for statuses in seen.values() for s in statuses if s.startswith("5")]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            documented = set(operation["responses"])
            missing = documented - seen[(method.upper(), path)]
            assert not missing, f"{method.upper()} {path}: never answered {sorted(missing)}"
    counts = re.search(r"(\d+) generated", run.stdout)
    generated = f"{counts.group(1) if counts else '?'} test cases"
    print(
        f"schemathesis: {len(entries)} requests, {generated}, max {MAX_EXAMPLES} examples "
        f"per operation and phase, {seconds:.1f} s, seed {seed_value}"
    )
