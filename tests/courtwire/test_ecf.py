"""OASIS ECF 4.01 messages, each validated against the vendored schemas (courtwire/ecf-4.01)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree

from cases.court.privilege import filter_for_court, privileged_strings
from courtwire import ecf
from courtwire.case_numbers import CaseNumberError
from courtwire.ecf import (
    EcfError,
    MessageReceipt,
    ReceiptError,
    ReviewResult,
    build_core_filing,
    build_message_receipt,
    build_review_callback,
    parse_message_receipt,
    parse_review_callback,
    validator,
)
from courtwire.package import CourtPackage, SignedAgreement
from tests.cases.test_privilege import FAILURE, rich_record

SCHEMAS = Path(__file__).resolve().parents[2] / "courtwire" / "ecf-4.01"
NS = ecf.NSMAP | {"core": ecf.NS_CORE}
SHANGHAI = timezone(timedelta(hours=8))
SENT_AT = datetime(2026, 3, 6, 9, 30, tzinfo=SHANGHAI)

AGREEMENT = SignedAgreement(
    text="经调解，被申请人于七日内退还申请人团费1500元，双方再无其他争议。",
    sha256="f" * 64,
    signed_at="2026-03-06T15:00:00+08:00",
)


@pytest.fixture(scope="module")
def core_schema() -> etree.XMLSchema:
    # ecf-31 alone cannot check a CivilCase: it is a substitution for nc:Case declared in
    # ecf-16, which ecf-31 does not import.
    return validator(SCHEMAS / "ecf-31.xsd", SCHEMAS / "ecf-16.xsd")


@pytest.fixture(scope="module")
def receipt_schema() -> etree.XMLSchema:
    return validator(SCHEMAS / "ecf-48.xsd")


@pytest.fixture(scope="module")
def callback_schema() -> etree.XMLSchema:
    return validator(SCHEMAS / "ecf-53.xsd")


def transfer_package() -> CourtPackage:
    return filter_for_court(rich_record())


def confirmation_package() -> CourtPackage:
    return filter_for_court(rich_record(failure=None, agreement=AGREEMENT))


def bare_package() -> CourtPackage:
    return filter_for_court(rich_record(failure=None))


def assert_valid(schema: etree.XMLSchema, xml: bytes) -> etree._Element:
    root = etree.fromstring(xml)
    assert schema.validate(root), schema.error_log
    return root


def documents(root: etree._Element) -> list[etree._Element]:
    lead: list[etree._Element] = root.findall("core:FilingLeadDocument", NS)
    connected: list[etree._Element] = root.findall("core:FilingConnectedDocument", NS)
    return lead + connected


def inline_text(document: etree._Element) -> str:
    encoded = document.findtext(".//nc:BinaryBase64Object", namespaces=NS)
    assert encoded is not None
    return base64.b64decode(encoded).decode("utf-8")


# --- the filing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "package",
    [transfer_package(), confirmation_package(), bare_package()],
    ids=["transfer", "confirmation", "statement-only"],
)
def test_core_filing_validates(core_schema: etree.XMLSchema, package: CourtPackage) -> None:
    xml = build_core_filing(package, "filing-0001", SENT_AT)
    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = assert_valid(core_schema, xml)
    assert root.tag == f"{{{ecf.NS_CORE}}}CoreFilingMessage"
    assert root.find("civil:CivilCase", NS) is not None


def test_core_filing_needs_the_civil_case_schema(core_schema: etree.XMLSchema) -> None:
    xml = build_core_filing(transfer_package(), "filing-0001", SENT_AT)
    alone = validator(SCHEMAS / "ecf-31.xsd")
    assert not alone.validate(etree.fromstring(xml))
    assert core_schema is validator(SCHEMAS / "ecf-31.xsd", SCHEMAS / "ecf-16.xsd")


def test_core_filing_content() -> None:
    root = etree.fromstring(build_core_filing(transfer_package(), "filing-0001", SENT_AT))
    assert root.findtext("nc:DocumentIdentification/nc:IdentificationID", namespaces=NS) == (
        "filing-0001"
    )
    assert root.findtext("nc:DocumentPostDate/nc:DateTime", namespaces=NS) == (
        "2026-03-06T09:30:00+08:00"
    )
    case = root.find("civil:CivilCase", NS)
    assert case is not None
    assert case.findtext("nc:CaseTrackingID", namespaces=NS) == "CNM-2026-T-00012"
    assert case.findtext("nc:CaseCategoryText", namespaces=NS) == "包价旅游合同纠纷"
    assert case.findtext("nc:CaseTitleText", namespaces=NS) == (
        "张三与上海某某旅行社有限公司包价旅游合同纠纷"
    )
    court = case.find("j:CaseAugmentation/j:CaseCourt", NS)
    assert court is not None
    code = court.findtext("nc:OrganizationIdentification/nc:IdentificationID", namespaces=NS)
    assert code == "沪0105"
    assert court.findtext("j:CourtName", namespaces=NS) == "上海市长宁区人民法院"
    amount = case.find("civil:AmountInControversy", NS)
    assert amount is not None
    assert (amount.text, amount.get(f"{{{ecf.NS_NC}}}currencyCode")) == ("3000.00", "CNY")
    assert case.findtext("ecf:CauseOfActionCode", namespaces=NS) == "tour_contract"
    assert case.findtext("nc:ActivityDescriptionText", namespaces=NS) == rich_record().facts
    assert case.findtext("civil:ReliefTypeCode", namespaces=NS) == rich_record().requested_outcome


def test_parties_with_chinese_names_ids_and_service_addresses() -> None:
    root = etree.fromstring(build_core_filing(transfer_package(), "filing-0001", SENT_AT))
    participants = root.findall(".//ecf:CaseParticipant", NS)
    assert len(participants) == 2
    person, organisation = participants
    assert person.findtext(".//nc:PersonFullName", namespaces=NS) == "张三"
    id_path = ".//nc:PersonOtherIdentification/nc:IdentificationID"
    assert person.findtext(id_path, namespaces=NS) == "310105199001011234"
    assert person.findtext("ecf:CaseParticipantRoleCode", namespaces=NS) == "applicant"
    assert person.findtext(".//nc:ContactEmailID", namespaces=NS) == "zhangsan@example.cn"
    assert organisation.findtext(".//nc:OrganizationName", namespaces=NS) == (
        "上海某某旅行社有限公司"
    )
    assert organisation.findtext("ecf:CaseParticipantRoleCode", namespaces=NS) == "respondent"
    assert organisation.findtext(".//nc:AddressFullText", namespaces=NS) == (
        "上海市长宁区延安西路1号"
    )
    ids = [e.get(f"{{{ecf.NS_S}}}id") for e in root.iterfind(".//ecf:CaseParticipant/*", NS)]
    assert ids[:1] == ["party-1"]
    assert "party-2" in ids


def test_evidence_is_listed_by_name_and_digest() -> None:
    package = transfer_package()
    root = etree.fromstring(build_core_filing(package, "filing-0001", SENT_AT))
    listed = {
        d.findtext("nc:DocumentTitleText", namespaces=NS): d
        for d in root.findall("core:FilingConnectedDocument", NS)
    }
    for item in package.evidence:
        document = listed[item.filename]
        identification = document.find("nc:DocumentIdentification", NS)
        assert identification is not None
        assert identification.findtext("nc:IdentificationID", namespaces=NS) == item.sha256
        assert identification.findtext("nc:IdentificationCategoryText", namespaces=NS) == (
            "SHA-256"
        )
        attachment = document.find(".//ecf:DocumentAttachment", NS)
        assert attachment is not None
        assert attachment.findtext("nc:BinaryFormatStandardName", namespaces=NS) == (
            item.media_type
        )
        assert attachment.findtext("nc:BinarySizeValue", namespaces=NS) == str(item.size)
        # Evidence bytes travel separately; only the description is in the message.
        assert attachment.find("nc:BinaryBase64Object", NS) is None
    filers = {
        d.findtext("nc:DocumentTitleText", namespaces=NS): d.findtext(
            ".//ecf:FilingPartyID/nc:IdentificationID", namespaces=NS
        )
        for d in root.findall("core:FilingConnectedDocument", NS)
    }
    assert filers["地接社函件.pdf"] == "party-2"  # the respondent's evidence
    assert filers["旅游合同.pdf"] == "party-1"


def test_evidence_links_are_location_uris(core_schema: etree.XMLSchema) -> None:
    package = transfer_package()
    first = package.evidence[0]
    url = "https://mediation.example/court/evidence/token-1"
    xml = build_core_filing(package, "filing-0001", SENT_AT, evidence_urls={first.sha256: url})
    root = assert_valid(core_schema, xml)
    locations = {
        d.findtext("nc:DocumentTitleText", namespaces=NS): d.findtext(
            ".//ecf:DocumentAttachment/nc:BinaryLocationURI", namespaces=NS
        )
        for d in root.findall("core:FilingConnectedDocument", NS)
    }
    assert locations[first.filename] == url
    # An item without a link has no location (the court asks for it another way).
    assert [locations[item.filename] for item in package.evidence[1:]] == [None] * (
        len(package.evidence) - 1
    )


def test_transfer_leads_with_the_failure_record() -> None:
    root = etree.fromstring(build_core_filing(transfer_package(), "filing-0001", SENT_AT))
    lead, statement = documents(root)[:2]
    assert lead.findtext("nc:DocumentTitleText", namespaces=NS) == "调解不成记录"
    text = inline_text(lead)
    for part in (
        FAILURE.undisputed_facts,
        FAILURE.reasons_for_failure,
        FAILURE.cost_raising_conduct,
    ):
        assert part in text
    digest = lead.findtext("nc:DocumentIdentification/nc:IdentificationID", namespaces=NS)
    assert digest == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert statement.findtext("nc:DocumentTitleText", namespaces=NS) == "申请人陈述的事实与请求"
    assert rich_record().facts in inline_text(statement)


def test_confirmation_leads_with_the_agreement_filed_by_both_parties() -> None:
    root = etree.fromstring(build_core_filing(confirmation_package(), "filing-0002", SENT_AT))
    lead = documents(root)[0]
    assert lead.findtext("nc:DocumentTitleText", namespaces=NS) == "调解协议"
    assert inline_text(lead) == AGREEMENT.text
    assert lead.findtext("nc:DocumentEffectiveDate/nc:DateTime", namespaces=NS) == (
        AGREEMENT.signed_at
    )
    ids = {
        e.findtext("nc:IdentificationCategoryText", namespaces=NS): e.findtext(
            "nc:IdentificationID", namespaces=NS
        )
        for e in lead.findall("nc:DocumentIdentification", NS)
    }
    assert ids["signed-agreement-sha256"] == AGREEMENT.sha256
    filers = [e.text for e in lead.iterfind(".//ecf:FilingPartyID/nc:IdentificationID", NS)]
    assert filers == ["party-1", "party-2"]


def test_no_privileged_content_reaches_the_xml() -> None:
    record = rich_record()
    xml = build_core_filing(filter_for_court(record), "filing-0001", SENT_AT)
    root = etree.fromstring(xml)
    texts = list(root.itertext())
    for document in documents(root):
        if document.find(".//nc:BinaryBase64Object", NS) is not None:
            texts.append(inline_text(document))
    everything = "\n".join(texts)
    for privileged in privileged_strings(record):
        assert privileged not in everything, privileged


@pytest.mark.parametrize("currency", ["RMB", "CNH", "cny", "YUAN", ""])
def test_non_iso_4217_currency_is_rejected_by_the_schema(
    core_schema: etree.XMLSchema, currency: str
) -> None:
    root = etree.fromstring(build_core_filing(transfer_package(), "filing-0001", SENT_AT))
    amount = root.find(".//civil:AmountInControversy", NS)
    assert amount is not None
    amount.set(f"{{{ecf.NS_NC}}}currencyCode", currency)
    assert not core_schema.validate(root)
    amount.set(f"{{{ecf.NS_NC}}}currencyCode", "CNY")
    assert core_schema.validate(root)


@pytest.mark.parametrize(
    "path",
    [
        "civil:CivilCase/civil:ClassActionIndicator",
        "civil:CivilCase/j:CaseAugmentation",
        "ecf:SendingMDEProfileCode",
        "core:FilingLeadDocument",
    ],
)
def test_schema_notices_a_missing_required_element(core_schema: etree.XMLSchema, path: str) -> None:
    root = etree.fromstring(build_core_filing(transfer_package(), "filing-0001", SENT_AT))
    element = root.find(path, NS)
    assert element is not None
    parent = element.getparent()
    assert parent is not None
    parent.remove(element)
    assert not core_schema.validate(root)


def test_naive_send_time_is_refused() -> None:
    with pytest.raises(EcfError, match="naive_datetime"):
        build_core_filing(transfer_package(), "filing-0001", datetime(2026, 3, 6, 9, 30))


def test_text_that_xml_cannot_carry_is_refused() -> None:
    package = dataclasses.replace(transfer_package(), facts="行程\x00取消")
    with pytest.raises(EcfError, match="not_xml_text"):
        build_core_filing(package, "filing-0001", SENT_AT)


def test_package_without_an_applicant_is_refused() -> None:
    package = dataclasses.replace(transfer_package(), parties=transfer_package().parties[1:])
    with pytest.raises(EcfError, match="no_applicant"):
        build_core_filing(package, "filing-0001", SENT_AT)


# --- the review callback ---------------------------------------------------------------------


ACCEPTED = ReviewResult(
    filing_id="filing-0001",
    status="accepted",
    case_tracking_id="CNM-2026-T-00012",
    reviewed_at=datetime(2026, 3, 7, 10, 0, tzinfo=SHANGHAI),
    case_docket_id="(2026)沪0105民初123号",
)
REJECTED = ReviewResult(
    filing_id="filing-0002",
    status="rejected",
    case_tracking_id="CNM-2026-T-00013",
    reviewed_at=datetime(2026, 3, 7, 2, 0, tzinfo=UTC),
    reason="请补正被申请人的送达地址",
)


@pytest.mark.parametrize("result", [ACCEPTED, REJECTED], ids=["accepted", "rejected"])
def test_review_callback_validates_and_round_trips(
    callback_schema: etree.XMLSchema, result: ReviewResult
) -> None:
    xml = build_review_callback(result)
    assert_valid(callback_schema, xml)
    assert parse_review_callback(xml) == result
    assert parse_review_callback(xml, schema=callback_schema) == result


def test_docket_id_is_stored_in_canonical_form() -> None:
    typed = dataclasses.replace(ACCEPTED, case_docket_id="（2026）沪0105民初123号")
    assert parse_review_callback(build_review_callback(typed)).case_docket_id == (
        "(2026)沪0105民初123号"
    )


def test_review_result_rules() -> None:
    with pytest.raises(EcfError, match="accepted_without_docket_id"):
        dataclasses.replace(ACCEPTED, case_docket_id=None)
    with pytest.raises(CaseNumberError):
        dataclasses.replace(ACCEPTED, case_docket_id="沪0105民初123号")
    with pytest.raises(EcfError, match="rejected_without_reason"):
        dataclasses.replace(REJECTED, reason=None)
    with pytest.raises(EcfError, match="bad_status"):
        dataclasses.replace(REJECTED, status="pending")  # type: ignore[arg-type]
    with pytest.raises(EcfError, match="naive_datetime"):
        dataclasses.replace(REJECTED, reviewed_at=datetime(2026, 3, 7))


def test_callback_with_an_unknown_status_is_refused() -> None:
    xml = build_review_callback(REJECTED).replace(b">rejected<", b">pending<")
    with pytest.raises(EcfError, match="bad_status"):
        parse_review_callback(xml)


def test_callback_missing_its_filing_id_is_refused(callback_schema: etree.XMLSchema) -> None:
    root = etree.fromstring(build_review_callback(REJECTED))
    identification = root.find("nc:DocumentIdentification", NS)
    assert identification is not None
    root.remove(identification)
    xml = etree.tostring(root)
    assert callback_schema.validate(root)  # the schema allows it; we do not
    with pytest.raises(EcfError, match="missing_element"):
        parse_review_callback(xml)


def test_parse_with_schema_refuses_an_invalid_message(callback_schema: etree.XMLSchema) -> None:
    root = etree.fromstring(build_review_callback(ACCEPTED))
    status = root.find("ecf:FilingStatus", NS)
    assert status is not None
    root.remove(status)
    root.append(status)  # out of schema order
    with pytest.raises(EcfError, match="invalid"):
        parse_review_callback(etree.tostring(root), schema=callback_schema)


# --- the message receipt ---------------------------------------------------------------------


def test_message_receipt_validates_and_round_trips(receipt_schema: etree.XMLSchema) -> None:
    received_at = datetime(2026, 3, 6, 9, 30, 2, tzinfo=SHANGHAI)
    xml = build_message_receipt("filing-0001", received_at)
    root = assert_valid(receipt_schema, xml)
    assert root.findtext("ecf:Error/ecf:ErrorCode", namespaces=NS) == "0"
    receipt = parse_message_receipt(xml, schema=receipt_schema)
    assert receipt == MessageReceipt("filing-0001", received_at)
    assert receipt.ok


def test_message_receipt_with_errors_round_trips(receipt_schema: etree.XMLSchema) -> None:
    received_at = datetime(2026, 3, 6, 1, 30, tzinfo=UTC)
    errors = (ReceiptError("3", "签名无效"), ReceiptError("7", "缺少当事人"))
    xml = build_message_receipt("filing-0009", received_at, errors=errors)
    assert_valid(receipt_schema, xml)
    receipt = parse_message_receipt(xml)
    assert receipt == MessageReceipt("filing-0009", received_at, errors)
    assert not receipt.ok


# --- reading is defensive --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        (b"not xml", "not_xml"),
        (b"", "not_xml"),
        (build_message_receipt("f-1", SENT_AT), "wrong_message"),
        (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<ReviewFilingCallbackMessage xmlns="'
            + ecf.NS_CALLBACK.encode()
            + b'">&x;</ReviewFilingCallbackMessage>',
            "doctype_not_allowed",
        ),
    ],
    ids=["garbage", "empty", "wrong-root", "xxe"],
)
def test_parse_review_callback_refuses(xml: bytes, reason: str) -> None:
    with pytest.raises(EcfError) as caught:
        parse_review_callback(xml)
    assert caught.value.reason == reason


# --- schemas ---------------------------------------------------------------------------------


def test_schemas_dir_defaults_to_the_vendored_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECF_SCHEMA_DIR", raising=False)
    assert ecf.schemas_dir().resolve() == SCHEMAS.resolve()
    # The copy is complete (every schema the entry points import is there), unmodified
    # OASIS files with their notice, and the README says where it comes from.
    assert sorted(path.name for path in SCHEMAS.glob("*.xsd")) == sorted(
        f"ecf-{n}.xsd" for n in (*range(2, 20), 31, 46, 47, 48, 53)
    )
    assert "Copyright (c) OASIS Open 2014" in (SCHEMAS / "NOTICE").read_text(encoding="utf-8")
    assert "Errata 01" in (SCHEMAS / "README.md").read_text(encoding="utf-8")
    # Unmodified since vendored: every file has the digest SHA256SUMS recorded for it.
    sums = dict(
        reversed(line.split("  ", 1))
        for line in (SCHEMAS / "SHA256SUMS").read_text(encoding="ascii").splitlines()
    )
    assert sorted(sums) == sorted(path.name for path in SCHEMAS.glob("*.xsd"))
    for name, digest in sums.items():
        assert hashlib.sha256((SCHEMAS / name).read_bytes()).hexdigest() == digest, name
    for entry in ("ecf-31.xsd", "ecf-46.xsd", "ecf-47.xsd", "ecf-48.xsd", "ecf-53.xsd"):
        assert validator(SCHEMAS / entry) is not None


def test_schemas_dir_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ECF_SCHEMA_DIR", str(tmp_path))
    assert ecf.schemas_dir() == tmp_path
    with pytest.raises(FileNotFoundError, match="ECF_SCHEMA_DIR"):
        ecf.message_receipt_validator()


def test_validators_are_cached() -> None:
    assert validator(SCHEMAS / "ecf-48.xsd") is validator(SCHEMAS / "ecf-48.xsd")
    assert ecf.review_callback_validator() is validator(SCHEMAS / "ecf-53.xsd")
