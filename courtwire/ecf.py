"""OASIS Electronic Court Filing 4.01 messages for the court handoff.

The platform is ECF's Filing Assembly MDE: it sends a CoreFilingMessage (ReviewFiling) that
carries a CivilCase; the court's Filing Review MDE answers at once with a
MessageReceiptMessage and, after the clerk's review, with a ReviewFilingCallbackMessage
(accepted with a case number, or rejected with a reason: returned for correction, 补正).
The court desk builds the answers with the same module, so both sides share one reading of
the schemas.

Element choices (the schema leaves most of these open; the court desk is the other reader):
- the filing id is the message's nc:DocumentIdentification (category "filing"), in all three
  messages, so a receipt or callback names the filing it answers;
- parties are ecf:CaseParticipant entries (ecf:EntityPerson or ecf:EntityOrganization with
  s:id "party-N"), role code "applicant" / "respondent", the ID number as
  nc:PersonOtherIdentification or nc:OrganizationIdentification, and the service address
  (Civil Procedure interpretation Art. 354) as the participant's nc:ContactInformation;
- the applicant's statement of facts is the case's nc:ActivityDescriptionText and the
  request its civil:ReliefTypeCode (no ECF code list fits a Chinese claim, so it is the text);
- documents: the signed agreement (judicial confirmation) or else the failure record (Art.
  21, transfer to litigation) or else the statement is the lead document, with the text
  inline as UTF-8; every evidence item is a connected document described by its file name,
  media type, size and SHA-256 digest (nc:DocumentIdentification, category "SHA-256"), the
  bytes themselves travel separately;
- the review result's status is ecf:FilingStatusCode ("accepted" / "rejected"), the reason
  nc:StatusDescriptionText, the review time nc:StatusDate, the court case number (案号)
  nc:CaseDocketID and the platform's case number nc:CaseTrackingID.

Building and reading are pure. `validator` and `schemas_dir` read the schema files (vendored
unmodified in `ecf-4.01/` beside this module, installed as package data, so a deployed desk
has them) and cache the compiled schemas.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

from lxml import etree

from cases.categories import BY_CODE
from courtwire.case_numbers import CHANGNING_COURT, parse_case_number
from courtwire.package import CourtPackage, CourtParty

NS_CORE = "urn:oasis:names:tc:legalxml-courtfiling:schema:xsd:CoreFilingMessage-4.0"
NS_RECEIPT = "urn:oasis:names:tc:legalxml-courtfiling:schema:xsd:MessageReceiptMessage-4.0"
NS_CALLBACK = "urn:oasis:names:tc:legalxml-courtfiling:schema:xsd:ReviewFilingCallbackMessage-4.0"
NS_ECF = "urn:oasis:names:tc:legalxml-courtfiling:schema:xsd:CommonTypes-4.0"
NS_CIVIL = "urn:oasis:names:tc:legalxml-courtfiling:schema:xsd:CivilCase-4.0"
NS_NC = "http://niem.gov/niem/niem-core/2.0"
NS_J = "http://niem.gov/niem/domains/jxdm/4.0"
NS_S = "http://niem.gov/niem/structures/2.0"
NS_XSD = "http://www.w3.org/2001/XMLSchema"

NSMAP = {"ecf": NS_ECF, "civil": NS_CIVIL, "nc": NS_NC, "j": NS_J, "s": NS_S}

# Entry points of the schema set (ecf-4.01/README.md).
CORE_FILING_XSD = "ecf-31.xsd"
CIVIL_CASE_XSD = "ecf-16.xsd"
MESSAGE_RECEIPT_XSD = "ecf-48.xsd"
REVIEW_CALLBACK_XSD = "ecf-53.xsd"

COURT_NAME = "上海市长宁区人民法院"
PLATFORM_MDE = "urn:changning-mediation:mde:filing-assembly"
COURT_MDE = "urn:changning-mediation:mde:court-desk"
# Our transport is HTTPS with Standard Webhooks signatures, not ECF's SOAP profile, so the
# profile code names our own profile rather than claiming the OASIS one.
PROFILE_CODE = "urn:changning-mediation:profile:https-standard-webhooks:1"

FilingStatus = Literal["accepted", "rejected"]
_STATUSES: tuple[FilingStatus, ...] = ("accepted", "rejected")
_TEXT_MEDIA_TYPE = "text/plain; charset=utf-8"
_ID_LABEL = {"natural_person": "居民身份证", "organisation": "统一社会信用代码"}


class EcfError(ValueError):
    """A message that cannot be built or read; `reason` is a stable code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


# --- schemas -------------------------------------------------------------------------------


def schemas_dir() -> Path:
    """The ECF 4.01 schema folder: $ECF_SCHEMA_DIR if set, else the copy shipped with the code."""
    configured = os.environ.get("ECF_SCHEMA_DIR")
    if configured:
        return Path(configured)
    return VENDORED_SCHEMAS


# The vendored schema set: part of the package (package data), never read from beside the
# project, so a fresh clone and an installed desk validate the same way.
VENDORED_SCHEMAS = Path(__file__).resolve().parent / "ecf-4.01"

_VALIDATORS: dict[tuple[Path, ...], etree.XMLSchema] = {}


def validator(schema_file: Path, *extensions: Path) -> etree.XMLSchema:
    """A compiled schema, cached per process (compiling the set takes a fraction of a second).

    `extensions` are schemas of substitution-group members the entry point does not import
    itself: a CoreFilingMessage (ecf-31) holds its CivilCase (ecf-16) as a member of nc:Case,
    and only a schema that imports both can check it.
    """
    key = tuple(path.resolve() for path in (schema_file, *extensions))
    cached = _VALIDATORS.get(key)
    if cached is not None:
        return cached
    for path in key:
        if not path.is_file():
            raise FileNotFoundError(f"ECF schema not found: {path} (set ECF_SCHEMA_DIR)")
    if not extensions:
        schema = etree.XMLSchema(etree.parse(str(key[0])))
    else:
        driver = etree.Element(f"{{{NS_XSD}}}schema", nsmap={"xsd": NS_XSD})
        for path in key:
            namespace = etree.parse(str(path)).getroot().get("targetNamespace")
            etree.SubElement(
                driver, f"{{{NS_XSD}}}import", namespace=namespace, schemaLocation=path.as_uri()
            )
        schema = etree.XMLSchema(driver)
    _VALIDATORS[key] = schema
    return schema


def core_filing_validator() -> etree.XMLSchema:
    folder = schemas_dir()
    return validator(folder / CORE_FILING_XSD, folder / CIVIL_CASE_XSD)


def message_receipt_validator() -> etree.XMLSchema:
    return validator(schemas_dir() / MESSAGE_RECEIPT_XSD)


def review_callback_validator() -> etree.XMLSchema:
    return validator(schemas_dir() / REVIEW_CALLBACK_XSD)


# --- building helpers ------------------------------------------------------------------------


def _nsmap(default: str) -> dict[str | None, str]:
    """The message's own namespace as the default, the shared ones with their usual prefixes."""
    namespaces: dict[str | None, str] = {None: default}
    namespaces.update(NSMAP)
    return namespaces


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _add(
    parent: etree._Element, namespace: str, name: str, text: str | None = None
) -> etree._Element:
    element = etree.SubElement(parent, _q(namespace, name))
    if text is not None:
        try:
            element.text = text
        except ValueError:
            # XML 1.0 cannot carry most control characters (or NUL) at all.
            raise EcfError("not_xml_text", name) from None
    return element


def _identification(
    parent: etree._Element, namespace: str, name: str, value: str, category: str | None = None
) -> etree._Element:
    element = _add(parent, namespace, name)
    _add(element, NS_NC, "IdentificationID", value)
    if category is not None:
        _add(element, NS_NC, "IdentificationCategoryText", category)
    return element


def _datetime_text(value: datetime) -> str:
    # xsd:dateTime without an offset is a local time of unknown zone: refuse it.
    if value.tzinfo is None or value.utcoffset() is None:
        raise EcfError("naive_datetime", value.isoformat())
    return value.isoformat()


def _date(parent: etree._Element, name: str, value: datetime) -> None:
    _add(_add(parent, NS_NC, name), NS_NC, "DateTime", _datetime_text(value))


def _serialise(root: etree._Element) -> bytes:
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return data


def _message_head(
    root: etree._Element, filing_id: str, date_name: str, at: datetime, sender: str
) -> None:
    """The fields every ECF message has first (nc:DocumentType, then ecf:CaseFilingType)."""
    if not filing_id:
        raise EcfError("missing_filing_id")
    _identification(root, NS_NC, "DocumentIdentification", filing_id, "filing")
    _date(root, date_name, at)
    _identification(root, NS_ECF, "SendingMDELocationID", sender)
    _add(root, NS_ECF, "SendingMDEProfileCode", PROFILE_CODE)


def _court(parent: etree._Element, court_code: str) -> None:
    court = _add(parent, NS_J, "CaseCourt")
    _identification(court, NS_NC, "OrganizationIdentification", court_code)
    _add(court, NS_J, "CourtName", COURT_NAME if court_code == CHANGNING_COURT else court_code)


# --- the filing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Document:
    title: str
    register_action: str  # what the court is asked to do with it
    filer_ids: tuple[str, ...]
    media_type: str
    sha256: str
    size: int
    content: bytes | None = None  # inline text; evidence bytes travel separately
    description: str | None = None
    effective: datetime | None = None
    extra_ids: tuple[tuple[str, str], ...] = ()
    url: str | None = None  # where the bytes can be fetched (evidence travels separately)


def _text_document(
    title: str,
    action: str,
    filer_ids: tuple[str, ...],
    text: str,
    *,
    effective: datetime | None = None,
    extra_ids: tuple[tuple[str, str], ...] = (),
) -> _Document:
    content = text.encode("utf-8")
    return _Document(
        title=title,
        register_action=action,
        filer_ids=filer_ids,
        media_type=_TEXT_MEDIA_TYPE,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        content=content,
        effective=effective,
        extra_ids=extra_ids,
    )


def build_core_filing(
    package: CourtPackage,
    filing_id: str,
    sent_at: datetime,
    *,
    sender: str = PLATFORM_MDE,
    court_code: str = CHANGNING_COURT,
    evidence_urls: Mapping[str, str] | None = None,
) -> bytes:
    """A CoreFilingMessage carrying the package as a CivilCase, UTF-8 XML bytes.

    Built from a CourtPackage only, never from a case record, so nothing the privilege
    filter dropped can be reached from here. `evidence_urls` maps an evidence item's SHA-256
    to the link the court fetches it from (nc:BinaryLocationURI).
    """
    # Parties are referred to by position: two parties may hold equal data.
    party_ids = [f"party-{n}" for n in range(1, len(package.parties) + 1)]
    by_side: dict[str, tuple[str, ...]] = {}
    for party, party_id in zip(package.parties, party_ids, strict=True):
        by_side[party.side] = (*by_side.get(party.side, ()), party_id)
    if "applicant" not in by_side:
        raise EcfError("no_applicant")

    root = etree.Element(_q(NS_CORE, "CoreFilingMessage"), nsmap=_nsmap(NS_CORE))
    _message_head(root, filing_id, "DocumentPostDate", sent_at, sender)
    _civil_case(root, package, party_ids, court_code)
    # Identity numbers and addresses are inside (DOMAIN.md: shown only to those who must
    # see them), so the filing is marked confidential.
    _add(root, NS_CORE, "FilingConfidentialityIndicator", "true")
    documents = _documents(package, by_side, evidence_urls or {})
    for n, document in enumerate(documents, 1):
        name = "FilingLeadDocument" if n == 1 else "FilingConnectedDocument"
        _document(_add(root, NS_CORE, name), document, f"doc-{n}")
    return _serialise(root)


def _civil_case(
    root: etree._Element, package: CourtPackage, party_ids: list[str], court_code: str
) -> None:
    case = _add(root, NS_CIVIL, "CivilCase")
    # nc:ActivityType, then nc:CaseType, then civil:CivilCaseType, in schema order.
    _add(case, NS_NC, "ActivityDescriptionText", package.facts)
    category = BY_CODE.get(package.category)
    label = category.zh if category is not None else package.category
    _add(case, NS_NC, "CaseTitleText", _title(package.parties, label))
    _add(case, NS_NC, "CaseCategoryText", label)
    _add(case, NS_NC, "CaseTrackingID", package.case_number)
    _court(_add(case, NS_J, "CaseAugmentation"), court_code)
    augmentation = _add(case, NS_ECF, "CaseAugmentation")
    _add(augmentation, NS_NC, "LanguageCode", "zho")  # ISO 639-3
    for party, party_id in zip(package.parties, party_ids, strict=True):
        _participant(augmentation, party, party_id)
    _add(case, NS_ECF, "CauseOfActionCode", package.category)
    amount = _add(case, NS_CIVIL, "AmountInControversy", _amount(package.claim_amount))
    amount.set(_q(NS_NC, "currencyCode"), "CNY")  # ISO 4217, checked by the schema's code list
    # Group disputes with representatives are not a class action in the ECF sense; China has
    # no civil juries.
    _add(case, NS_CIVIL, "ClassActionIndicator", "false")
    _add(case, NS_CIVIL, "JuryDemandIndicator", "false")
    _add(case, NS_CIVIL, "ReliefTypeCode", package.requested_outcome)


def _title(parties: Sequence[CourtParty], category_label: str) -> str:
    applicants = "、".join(p.name for p in parties if p.side == "applicant")
    respondents = "、".join(p.name for p in parties if p.side == "respondent")
    return f"{applicants}与{respondents}{category_label}"


def _amount(value: str) -> str:
    amount = Decimal(value)
    if not amount.is_finite() or amount < 0:
        raise EcfError("bad_amount", value)
    return f"{amount:.2f}"


def _participant(parent: etree._Element, party: CourtParty, party_id: str) -> None:
    participant = _add(parent, NS_ECF, "CaseParticipant")
    if party.kind == "natural_person":
        entity = _add(participant, NS_ECF, "EntityPerson")
        _add(_add(entity, NS_NC, "PersonName"), NS_NC, "PersonFullName", party.name)
        if party.id_number:
            label = _ID_LABEL["natural_person"]
            _identification(entity, NS_NC, "PersonOtherIdentification", party.id_number, label)
    else:
        entity = _add(participant, NS_ECF, "EntityOrganization")
        if party.id_number:
            label = _ID_LABEL["organisation"]
            _identification(entity, NS_NC, "OrganizationIdentification", party.id_number, label)
        _add(entity, NS_NC, "OrganizationName", party.name)
    entity.set(_q(NS_S, "id"), party_id)
    _add(participant, NS_ECF, "CaseParticipantRoleCode", party.side)
    if party.service_address:
        contact = _add(participant, NS_NC, "ContactInformation")
        address = party.service_address.strip()
        # Art. 8 asks for an electronic service address; a postal one is also allowed.
        if "@" in address and " " not in address:
            _add(contact, NS_NC, "ContactEmailID", address)
        else:
            mailing = _add(contact, NS_NC, "ContactMailingAddress")
            _add(mailing, NS_NC, "AddressFullText", address)
        _add(contact, NS_NC, "ContactInformationDescriptionText", "送达地址")


def _documents(
    package: CourtPackage, by_side: dict[str, tuple[str, ...]], urls: Mapping[str, str]
) -> list[_Document]:
    applicants = by_side["applicant"]
    everyone = applicants + by_side.get("respondent", ())
    main: list[_Document] = []
    if package.agreement is not None:
        # Judicial confirmation is applied for by both parties jointly (PML Art. 33); the
        # agreement takes effect at the last signature (online mediation rules Art. 19).
        agreement = package.agreement
        main.append(
            _text_document(
                "调解协议",
                "申请司法确认",
                everyone,
                agreement.text,
                effective=_datetime(agreement.signed_at, "agreement.signed_at"),
                extra_ids=(("signed-agreement-sha256", agreement.sha256),),
            )
        )
    if package.failure is not None:
        failure = package.failure
        text = (
            f"一、基本无争议事实\n{failure.undisputed_facts}\n"
            f"二、调解不成的原因\n{failure.reasons_for_failure}\n"
            f"三、增加对方诉讼成本的行为\n{failure.cost_raising_conduct}\n"
        )
        main.append(_text_document("调解不成记录", "调解不成转立案", applicants, text))
    statement = f"事实与理由\n{package.facts}\n请求\n{package.requested_outcome}\n"
    main.append(_text_document("申请人陈述的事实与请求", "陈述与请求", applicants, statement))
    evidence = [
        _Document(
            title=item.filename,
            register_action="证据",
            filer_ids=by_side.get(item.side, applicants),
            media_type=item.media_type,
            sha256=item.sha256,
            size=item.size,
            description="申请人证据" if item.side == "applicant" else "被申请人证据",
            url=urls.get(item.sha256),
        )
        for item in package.evidence
    ]
    return main + evidence


def _document(element: etree._Element, document: _Document, document_id: str) -> None:
    element.set(_q(NS_S, "id"), document_id)
    # nc:DocumentType, in schema order.
    if document.description is not None:
        _add(element, NS_NC, "DocumentDescriptionText", document.description)
    if document.effective is not None:
        _date(element, "DocumentEffectiveDate", document.effective)
    _identification(element, NS_NC, "DocumentIdentification", document.sha256, "SHA-256")
    for category, value in document.extra_ids:
        _identification(element, NS_NC, "DocumentIdentification", value, category)
    _add(element, NS_NC, "DocumentTitleText", document.title)
    # ecf:DocumentType.
    metadata = _add(element, NS_ECF, "DocumentMetadata")
    _add(metadata, NS_J, "RegisterActionDescriptionText", document.register_action)
    _add(metadata, NS_ECF, "FilingAttorneyID")  # required, and no lawyer files here
    for filer in document.filer_ids:
        _identification(metadata, NS_ECF, "FilingPartyID", filer)
    rendition = _add(
        _add(element, NS_ECF, "DocumentRendition"), NS_ECF, "DocumentRenditionMetadata"
    )
    attachment = _add(rendition, NS_ECF, "DocumentAttachment")
    if document.content is not None:
        encoded = base64.b64encode(document.content).decode("ascii")
        _add(attachment, NS_NC, "BinaryBase64Object", encoded)
    _add(attachment, NS_NC, "BinaryDescriptionText", document.title)
    _add(attachment, NS_NC, "BinaryFormatStandardName", document.media_type)
    if document.url is not None:
        _add(attachment, NS_NC, "BinaryLocationURI", document.url)
    _add(attachment, NS_NC, "BinarySizeValue", str(document.size))
    _add(attachment, NS_ECF, "AttachmentSequenceID", "1")


# --- reading helpers -------------------------------------------------------------------------


def _parse(
    xml: bytes, root_namespace: str, root_name: str, schema: etree.XMLSchema | None
) -> etree._Element:
    # No DTDs, no entities, no network: what arrives over the wire is data, not instructions
    # to fetch or expand anything (XXE, entity expansion).
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as error:
        raise EcfError("not_xml", str(error)) from None
    if root.getroottree().docinfo.doctype:
        raise EcfError("doctype_not_allowed")
    if root.tag != _q(root_namespace, root_name):
        raise EcfError("wrong_message", str(root.tag))
    if schema is not None and not schema.validate(root.getroottree()):
        raise EcfError("invalid", str(schema.error_log.last_error))
    return root


def _optional(root: etree._Element, path: str) -> str | None:
    found = root.find(path, namespaces=NSMAP)
    text = str(found.text).strip() if found is not None and found.text else ""
    return text or None


def _required(root: etree._Element, path: str) -> str:
    value = _optional(root, path)
    if value is None:
        raise EcfError("missing_element", path)
    return value


def _datetime(value: str, path: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise EcfError("bad_datetime", path) from None
    if parsed.tzinfo is None:
        raise EcfError("bad_datetime", path)
    return parsed


_FILING_ID = "nc:DocumentIdentification/nc:IdentificationID"


# --- the review callback ---------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewResult:
    """The clerk's decision on a filing: accepted and docketed under a court case number
    (案号), or rejected (returned for correction, 补正) with a reason."""

    filing_id: str
    status: FilingStatus
    case_tracking_id: str  # the platform's case number
    reviewed_at: datetime
    case_docket_id: str | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.status not in _STATUSES:
            raise EcfError("bad_status", str(self.status))
        if self.reviewed_at.tzinfo is None:
            raise EcfError("naive_datetime", "reviewed_at")
        if self.status == "accepted":
            # Accepted means docketed: the court case number is the point of the answer.
            if not self.case_docket_id:
                raise EcfError("accepted_without_docket_id")
            parse_case_number(self.case_docket_id)
        elif not self.reason:
            raise EcfError("rejected_without_reason")


def build_review_callback(result: ReviewResult, *, sender: str = COURT_MDE) -> bytes:
    """A ReviewFilingCallbackMessage for `result` (the court desk's answer after review)."""
    root = etree.Element(_q(NS_CALLBACK, "ReviewFilingCallbackMessage"), nsmap=_nsmap(NS_CALLBACK))
    _message_head(root, result.filing_id, "DocumentPostDate", result.reviewed_at, sender)
    case = _add(root, NS_NC, "Case")
    _add(case, NS_NC, "CaseTrackingID", result.case_tracking_id)
    if result.case_docket_id:
        # Canonical form (ASCII parentheses), however the clerk typed it.
        _add(case, NS_NC, "CaseDocketID", str(parse_case_number(result.case_docket_id)))
    status = _add(root, NS_ECF, "FilingStatus")
    _date(status, "StatusDate", result.reviewed_at)
    if result.reason:
        _add(status, NS_NC, "StatusDescriptionText", result.reason)
    _add(status, NS_ECF, "FilingStatusCode", result.status)
    # The schema requires the reviewed lead document; the platform keeps the documents, so
    # this names the review only.
    lead = _add(root, NS_ECF, "ReviewedLeadDocument")
    metadata = _add(lead, NS_ECF, "DocumentMetadata")
    _add(metadata, NS_J, "RegisterActionDescriptionText", "立案审查")
    _add(metadata, NS_ECF, "FilingAttorneyID")
    _add(metadata, NS_ECF, "FilingPartyID")
    rendition = _add(_add(lead, NS_ECF, "DocumentRendition"), NS_ECF, "DocumentRenditionMetadata")
    _add(rendition, NS_ECF, "DocumentAttachment")
    return _serialise(root)


def parse_review_callback(xml: bytes, *, schema: etree.XMLSchema | None = None) -> ReviewResult:
    """Read a ReviewFilingCallbackMessage. With `schema` (an XMLSchema), validate it first."""
    root = _parse(xml, NS_CALLBACK, "ReviewFilingCallbackMessage", schema)
    status = _required(root, "ecf:FilingStatus/ecf:FilingStatusCode")
    if status not in _STATUSES:
        raise EcfError("bad_status", status)
    reviewed_at = _required(root, "ecf:FilingStatus/nc:StatusDate/nc:DateTime")
    return ReviewResult(
        filing_id=_required(root, _FILING_ID),
        status="accepted" if status == "accepted" else "rejected",
        case_tracking_id=_required(root, "nc:Case/nc:CaseTrackingID"),
        reviewed_at=_datetime(reviewed_at, "StatusDate"),
        case_docket_id=_optional(root, "nc:Case/nc:CaseDocketID"),
        reason=_optional(root, "ecf:FilingStatus/nc:StatusDescriptionText"),
    )


# --- the message receipt ---------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptError:
    code: str
    text: str


@dataclass(frozen=True)
class MessageReceipt:
    filing_id: str
    received_at: datetime
    errors: tuple[ReceiptError, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


# ECF's convention: a receipt always carries an error list, and code "0" means none.
_NO_ERROR = ReceiptError("0", "No Error")


def build_message_receipt(
    filing_id: str,
    received_at: datetime,
    *,
    errors: Sequence[ReceiptError] = (),
    court_code: str = CHANGNING_COURT,
    sender: str = COURT_MDE,
) -> bytes:
    """The court's synchronous MessageReceiptMessage for a filing."""
    root = etree.Element(_q(NS_RECEIPT, "MessageReceiptMessage"), nsmap=_nsmap(NS_RECEIPT))
    _message_head(root, filing_id, "DocumentReceivedDate", received_at, sender)
    _court(root, court_code)
    for error in errors or (_NO_ERROR,):
        element = _add(root, NS_ECF, "Error")
        _add(element, NS_ECF, "ErrorCode", error.code)
        _add(element, NS_ECF, "ErrorText", error.text)
    return _serialise(root)


def parse_message_receipt(xml: bytes, *, schema: etree.XMLSchema | None = None) -> MessageReceipt:
    """Read a MessageReceiptMessage. With `schema` (an XMLSchema), validate it first."""
    root = _parse(xml, NS_RECEIPT, "MessageReceiptMessage", schema)
    received_at = _required(root, "nc:DocumentReceivedDate/nc:DateTime")
    errors = tuple(
        ReceiptError(
            code=_required(element, "ecf:ErrorCode"),
            text=_optional(element, "ecf:ErrorText") or "",
        )
        for element in root.findall("ecf:Error", namespaces=NSMAP)
    )
    return MessageReceipt(
        filing_id=_required(root, _FILING_ID),
        received_at=_datetime(received_at, "DocumentReceivedDate"),
        errors=tuple(error for error in errors if error.code != _NO_ERROR.code),
    )
