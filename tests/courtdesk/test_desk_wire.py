"""Reading filings and writing answers (courtdesk/wire.py): pure, table-tested."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from lxml import etree

from cases.court.privilege import filter_for_court
from courtdesk import wire
from courtwire import ecf
from courtwire.package import CourtEvidence, SignedAgreement
from tests.cases.test_privilege import rich_record
from tests.courtdesk.support import cloudevent, is_uri_reference, package

SHANGHAI = timezone(timedelta(hours=8))
SENT = datetime(2026, 11, 27, 10, tzinfo=SHANGHAI)


def problems(data: dict[str, Any]) -> set[tuple[str, str]]:
    return {(d["field"], d["error"]) for d in wire.check_package(data)}


@pytest.mark.parametrize("kind", ["transfer", "confirmation"])
def test_a_good_package_has_no_problems(kind: str) -> None:
    assert wire.check_package(package(kind)) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"package_version": "2"}, ("data.package_version", "unsupported_version")),
        ({"kind": "appeal"}, ("data.kind", "unknown_kind")),
        ({"corrects": "filing-1"}, ("data.corrects", "not_a_filing_id")),
        ({"applicants": ["respondent"]}, ("data.applicants", "bad_applicants")),
        ({"applicants": ["applicant", "applicant"]}, ("data.applicants", "bad_applicants")),
        ({"applicants": []}, ("data.applicants", "bad_applicants")),
        ({"case_number": "  "}, ("data.case_number", "required")),
        ({"case_number": 12}, ("data.case_number", "not_a_string")),
        ({"claim_amount": "-1"}, ("data.claim_amount", "not_an_amount")),
        ({"claim_amount": "NaN"}, ("data.claim_amount", "not_an_amount")),
        ({"claim_amount": "1.005"}, ("data.claim_amount", "not_an_amount")),
        ({"claim_amount": "1e999999"}, ("data.claim_amount", "not_an_amount")),
        ({"facts": "事" * 20_001}, ("data.facts", "too_long")),
        ({"parties": "张三"}, ("data.parties", "not_a_list")),
        ({"failure": None}, ("data.failure", "required")),
        ({"failure": "failed"}, ("data.failure", "not_an_object")),
        (
            {"timeline": [{"kind": "filed", "at": "yesterday"}]},
            ("data.timeline[0].at", "not_a_time"),
        ),
        ({"precheck": {"ok": "yes"}}, ("data.precheck", "not_a_precheck")),
    ],
)
def test_each_problem_is_named(change: dict[str, Any], expected: tuple[str, str]) -> None:
    assert expected in problems({**package("transfer"), **change})


def test_parties_and_evidence_are_checked_item_by_item() -> None:
    data = package("transfer")
    data["parties"][1] = {"side": "defendant", "kind": "organisation", "name": ""}
    data["evidence"] = [
        {**data["evidence"][0], "sha256": "A" * 64},  # upper case is not how digests travel
        {**data["evidence"][0], "size": True, "url": "ftp://platform/file"},
        {**data["evidence"][0], "url": None},
        "file.pdf",
    ]
    assert problems(data) == {
        ("data.parties[1].side", "unknown_side"),
        ("data.parties[1].name", "required"),
        ("data.parties", "no_respondent"),
        ("data.evidence[0].sha256", "not_a_sha256"),
        ("data.evidence[1].size", "not_a_size"),
        ("data.evidence[1].url", "not_a_url"),
        ("data.evidence[2].url", "required"),
        ("data.evidence[3]", "not_an_object"),
    }


def test_a_confirmation_needs_both_parties_and_the_agreement() -> None:
    data = package("confirmation", applicants=["applicant"], agreement=None)
    assert problems(data) == {
        ("data.applicants", "confirmation_needs_both_parties"),
        ("data.agreement", "required"),
    }
    data = package("confirmation")
    data["agreement"] = {**data["agreement"], "signed_at": "2026-11-20 15:00", "pdf_url": "x"}
    assert problems(data) == {
        ("data.agreement.signed_at", "not_a_time"),  # no offset: a time of unknown zone
        ("data.agreement.pdf_url", "not_a_url"),
        ("data.agreement.pdf_sha256", "required"),
    }


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"specversion": "0.3"}, ("specversion", "unsupported_version")),
        ({"type": "cn.changning.mediation.court.appeal.v1"}, ("type", "unknown_type")),
        (
            {"type": "cn.changning.mediation.court.confirmation.v1"},
            ("data.kind", "does_not_match_type"),
        ),
        ({"datacontenttype": "text/plain"}, ("datacontenttype", "unsupported_media_type")),
        ({"dataschema": "urn:other"}, ("dataschema", "unknown_schema")),
        ({"subject": "CNM-2026-T-99999"}, ("subject", "does_not_match_case_number")),
        ({"time": "soon"}, ("time", "not_a_time")),
        ({"source": ""}, ("source", "required")),
        ({"data": None}, ("data", "required")),
        ({"data": []}, ("data", "not_an_object")),
    ],
)
def test_the_cloudevent_envelope_is_checked(
    change: dict[str, Any], expected: tuple[str, str]
) -> None:
    filing_id, body = cloudevent(package("transfer"))
    event = {**json.loads(body), **change}
    with pytest.raises(wire.InvalidPackage) as invalid:
        wire.read_cloudevent(json.dumps(event).encode(), filing_id)
    assert expected in {(d["field"], d["error"]) for d in invalid.value.details}


def test_the_filing_id_must_be_a_uuid_and_match_the_webhook_id() -> None:
    _, body = cloudevent(package("transfer"), "filing-0001")
    with pytest.raises(wire.InvalidPackage) as invalid:
        wire.read_cloudevent(body, "filing-0001")
    assert invalid.value.details == [{"field": "id", "error": "not_a_filing_id"}]
    with pytest.raises(wire.InvalidPackage) as invalid:
        wire.read_cloudevent(cloudevent(package())[1], str(uuid.uuid4()))
    assert invalid.value.details == [{"field": "id", "error": "does_not_match_webhook_id"}]


def test_a_cloudevent_is_read_into_its_package() -> None:
    data = package("confirmation")
    filing_id, body = cloudevent(data)
    read = wire.read_cloudevent(body, filing_id)
    assert (read.filing_id, read.kind, read.wire_format) == (filing_id, "confirmation", "json")
    assert read.package == data


def test_an_ecf_filing_reads_into_the_same_package_shape() -> None:
    record = rich_record()
    court_package = filter_for_court(record)
    filing_id = str(uuid.uuid4())
    xml = ecf.build_core_filing(court_package, filing_id, SENT)
    read = wire.read_core_filing(xml, filing_id, ecf.core_filing_validator())
    assert (read.kind, read.wire_format) == ("transfer", "ecf")
    data = read.package
    assert wire.check_package(data, evidence_urls_required=False) == []
    assert data["case_number"] == court_package.case_number
    assert data["category"] == court_package.category
    assert data["claim_amount"] == court_package.claim_amount
    assert data["facts"] == court_package.facts
    assert data["requested_outcome"] == court_package.requested_outcome
    assert (
        data["failure"] == dataclasses.asdict(court_package.failure)
        if court_package.failure
        else False
    )
    assert [
        (p["side"], p["kind"] == "natural_person", p["name"], p["id_number"], p["service_address"])
        for p in data["parties"]
    ] == [
        (p.side, p.kind == "natural_person", p.name, p.id_number, p.service_address)
        for p in court_package.parties
    ]
    assert [
        (e["filename"], e["sha256"], e["media_type"], e["size"], e["side"])
        for e in data["evidence"]
    ] == [(e.filename, e.sha256, e.media_type, e.size, e.side) for e in court_package.evidence]
    assert all(e["url"] is None for e in data["evidence"])  # ECF carries no link here


def test_an_ecf_confirmation_carries_its_agreement() -> None:
    text = "经调解，被申请人于七日内退还申请人团费1500元，双方再无其他争议。"
    agreement = SignedAgreement(
        text=text,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        signed_at="2026-11-20T15:00:00+08:00",
    )
    court_package = filter_for_court(rich_record(failure=None, agreement=agreement))
    filing_id = str(uuid.uuid4())
    xml = ecf.build_core_filing(court_package, filing_id, SENT)
    read = wire.read_core_filing(xml, filing_id, ecf.core_filing_validator())
    assert read.kind == "confirmation"
    assert read.package["applicants"] == ["applicant", "respondent"]
    assert read.package["agreement"]["text"] == text
    assert read.package["agreement"]["sha256"] == agreement.sha256
    assert datetime.fromisoformat(read.package["agreement"]["signed_at"]) == datetime.fromisoformat(
        agreement.signed_at
    )


def test_an_ecf_document_whose_bytes_do_not_match_its_digest_is_refused() -> None:
    filing_id = str(uuid.uuid4())
    xml = ecf.build_core_filing(filter_for_court(rich_record()), filing_id, SENT)
    root = etree.fromstring(xml)
    inline = root.find(".//nc:BinaryBase64Object", ecf.NSMAP)
    assert inline is not None
    inline.text = base64.b64encode("一、基本无争议事实\n改过的\n".encode()).decode()
    changed = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    with pytest.raises(wire.InvalidPackage) as invalid:
        wire.read_core_filing(changed, filing_id, ecf.core_filing_validator())
    assert invalid.value.details[0] == {"field": "document[0]", "error": "digest_mismatch"}


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"<not xml", "not_xml"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><x>&e;</x>', "doctype_not_allowed"),
        (b"<MessageReceiptMessage/>", "not_a_core_filing_message"),
    ],
)
def test_what_is_not_a_core_filing_is_refused(body: bytes, error: str) -> None:
    with pytest.raises(wire.InvalidPackage) as invalid:
        wire.read_core_filing(body, str(uuid.uuid4()), None)
    assert invalid.value.details[0]["error"] == error


def test_an_ecf_filing_with_evidence_links_keeps_them() -> None:
    # When the sender writes nc:BinaryLocationURI, the desk can fetch the evidence.
    filing_id = str(uuid.uuid4())
    evidence = (CourtEvidence("合同.pdf", "c" * 64, "application/pdf", 10, "applicant"),)
    xml = ecf.build_core_filing(filter_for_court(rich_record(evidence=evidence)), filing_id, SENT)
    root = etree.fromstring(xml)
    attachment = root.findall(".//ecf:DocumentAttachment", ecf.NSMAP)[-1]
    link = etree.Element(f"{{{ecf.NS_NC}}}BinaryLocationURI")
    link.text = "https://platform.example/court/evidence/token"
    size = attachment.find("nc:BinarySizeValue", ecf.NSMAP)
    assert size is not None
    size.addprevious(link)  # nc:BinaryType's order: format name, location, size
    linked = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    read = wire.read_core_filing(linked, filing_id, ecf.core_filing_validator())
    assert read.package["evidence"][0]["url"] == "https://platform.example/court/evidence/token"


def test_receipts() -> None:
    at = datetime(2026, 11, 27, 2, tzinfo=UTC)
    content_type, body = wire.receipt("json", "r-1", "f-1", at)
    assert content_type == "application/json"
    assert json.loads(body) == {
        "receipt_id": "r-1",
        "filing_id": "f-1",
        "received_at": "2026-11-27T02:00:00+00:00",
        "status": "received",
    }
    content_type, body = wire.receipt("ecf", "r-1", "f-1", at)
    assert content_type == "application/xml"
    parsed = ecf.parse_message_receipt(body, schema=ecf.message_receipt_validator())
    assert (parsed.filing_id, parsed.received_at, parsed.ok) == ("f-1", at, True)


@pytest.mark.parametrize("status", ["accepted", "returned", "docketed", "confirmed", "rejected"])
def test_a_json_callback_for_every_decision(status: str) -> None:
    at = datetime(2026, 11, 27, 2, tzinfo=UTC)
    facts = wire.CallbackFacts(
        callback_id="cb-1",
        filing_id="f-1",
        case_number="CNM-2026-T-00001",
        status=status,
        decided_at=at,
        court_case_number="(2026)沪0105民初1号" if status in ("docketed", "confirmed") else None,
        reason="理由" if status in ("returned", "rejected") else None,
    )
    content_type, body = wire.callback(facts, "json")
    assert content_type == "application/cloudevents+json"
    event = json.loads(body)
    assert event["type"] == f"cn.court.filing.{status}.v1"
    assert event["source"] == "urn:cn:court:%E6%B2%AA0105"
    assert is_uri_reference(event["source"])
    assert (event["id"], event["subject"]) == ("cb-1", "f-1")
    assert event["data"]["status"] == status
    assert event["data"]["court_case_number"] == facts.court_case_number
    assert event["data"]["reason"] == facts.reason


@pytest.mark.parametrize(
    ("status", "xml"),
    [("accepted", False), ("docketed", True), ("returned", True), ("confirmed", False)],
)
def test_an_ecf_filing_is_answered_in_ecf_for_docketing_and_returning(
    status: str, xml: bool
) -> None:
    facts = wire.CallbackFacts(
        callback_id="cb-1",
        filing_id="f-1",
        case_number="CNM-2026-T-00001",
        status=status,
        decided_at=datetime(2026, 11, 27, 2, tzinfo=UTC),
        court_case_number="(2026)沪0105民初1号" if status in ("docketed", "confirmed") else None,
        reason="请补充材料" if status == "returned" else None,
    )
    content_type, body = wire.callback(facts, "ecf")
    if not xml:
        assert content_type == "application/cloudevents+json"
        return
    assert content_type == "application/xml"
    result = ecf.parse_review_callback(body, schema=ecf.review_callback_validator())
    assert result.filing_id == "f-1"
    if status == "docketed":
        assert (result.status, result.case_docket_id) == ("accepted", "(2026)沪0105民初1号")
    else:
        assert (result.status, result.reason) == ("rejected", "请补充材料")
