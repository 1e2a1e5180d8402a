"""What the desk reads from and writes to the wire (docs/court-wire.md), without I/O.

A filing arrives as a CloudEvent (JSON) or as an ECF 4.01 CoreFilingMessage (XML); both are
read into one package shape (the CloudEvent's `data`), checked by the same rules, so the
clerk's pages and the decisions never care which format a filing came in. Each problem is
reported as {"field", "error"} with a stable code, all at once, so a sender sees everything
wrong with a package in one answer.

The answers are built here too: the receipt (JSON, or an ECF MessageReceipt) and the
callbacks (a CloudEvent, or an ECF ReviewFilingCallbackMessage for docketing and returning
an ECF filing).

Pure: no I/O, no clock (callers pass times and ids).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, urlsplit

from lxml import etree

from courtwire import ecf
from courtwire.case_numbers import CHANGNING_COURT

CLOUDEVENTS_JSON = "application/cloudevents+json"
XML = "application/xml"
PACKAGE_SCHEMA = "urn:cn:changning-mediation:court-package:1"
PACKAGE_VERSION = "1"
FILING_TYPES = {
    "cn.changning.mediation.court.transfer.v1": "transfer",
    "cn.changning.mediation.court.confirmation.v1": "confirmation",
}
CALLBACK_PATH = "/api/v1/court/callbacks"
# CloudEvents' `source` is an RFC 3986 URI-reference: ASCII only, so the court's code (沪0105)
# is percent-encoded as UTF-8 ("urn:cn:court:%E6%B2%AA0105"). The platform does not read the
# source, so callbacks sent before with the raw characters are still applied.
CALLBACK_SOURCE = f"urn:cn:court:{quote(CHANGNING_COURT, safe='')}"
SIDES = ("applicant", "respondent")

MAX_BODY = 2 * 1024 * 1024  # a package is text; evidence travels separately
_LIMITS = {"short": 500, "text": 20_000}  # characters; the platform keeps addresses to 300
_HEX64 = re.compile(r"[0-9a-f]{64}")


class InvalidPackage(Exception):
    """A filing that cannot be taken: `details` lists every problem found."""

    def __init__(self, details: list[dict[str, str]]) -> None:
        super().__init__(f"invalid package ({len(details)} problem(s))")
        self.details = details


def media_type_of(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def is_json_type(content_type: str) -> bool:
    return media_type_of(content_type) == CLOUDEVENTS_JSON


def is_xml_type(content_type: str) -> bool:
    return media_type_of(content_type) in (XML, "text/xml")


# --- checking a package ----------------------------------------------------------------------


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class _Checker:
    """Collects problems as {"field": path, "error": code}."""

    def __init__(self) -> None:
        self.details: list[dict[str, str]] = []

    def fail(self, field: str, error: str) -> None:
        self.details.append({"field": field, "error": error})

    def text(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        *,
        required: bool = True,
        limit: str = "short",
        nullable: bool = False,
    ) -> str | None:
        where = _at(path, key)
        if key not in data:
            # An optional field may be left out; a required one may not.
            if required:
                self.fail(where, "required")
            return None
        value = data[key]
        if value is None:
            if not nullable:
                self.fail(where, "required")
            return None
        if not isinstance(value, str):
            self.fail(where, "not_a_string")
            return None
        if required and not value.strip():
            self.fail(where, "required")
            return None
        if len(value) > _LIMITS[limit]:
            self.fail(where, "too_long")
            return None
        return value

    def hex64(
        self, data: Mapping[str, Any], key: str, path: str, *, nullable: bool = False
    ) -> None:
        value = self.text(data, key, path, nullable=nullable)
        if value is not None and not _HEX64.fullmatch(value):
            self.fail(_at(path, key), "not_a_sha256")

    def moment(self, data: Mapping[str, Any], key: str, path: str) -> None:
        value = self.text(data, key, path)
        if value is not None and parse_time(value) is None:
            self.fail(_at(path, key), "not_a_time")

    def url(self, data: Mapping[str, Any], key: str, path: str, *, nullable: bool) -> None:
        value = self.text(data, key, path, nullable=nullable, limit="text")
        if value is not None and not is_link(value):
            self.fail(_at(path, key), "not_a_url")

    def obj(self, data: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any] | None:
        value = data.get(key)
        if not isinstance(value, dict):
            self.fail(_at(path, key), "required" if value is None else "not_an_object")
            return None
        return value

    def items(self, data: Mapping[str, Any], key: str, path: str) -> list[Any]:
        value = data.get(key, [])
        if not isinstance(value, list):
            self.fail(_at(path, key), "not_a_list")
            return []
        return value


def parse_time(value: str) -> datetime | None:
    """An RFC 3339 time with an offset, or None."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def is_link(value: str) -> bool:
    """An evidence link: a path on the platform ("/court/evidence/<token>", resolved against
    the desk's PLATFORM_URL), or a full http(s) URL as filings queued before carry."""
    return is_http_url(value) or (value.startswith("/") and not value.startswith("//"))


def _is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def check_package(
    data: Mapping[str, Any], *, evidence_urls_required: bool = True
) -> list[dict[str, str]]:
    """Every problem with a package (the CloudEvent's `data`), [] when it may be taken."""
    c = _Checker()
    p = "data"
    if data.get("package_version") != PACKAGE_VERSION:
        c.fail(f"{p}.package_version", "unsupported_version")
    kind = data.get("kind")
    if kind not in ("transfer", "confirmation"):
        c.fail(f"{p}.kind", "unknown_kind")
    corrects = data.get("corrects")
    if corrects is not None and not _is_uuid(corrects):
        c.fail(f"{p}.corrects", "not_a_filing_id")
    applicants = data.get("applicants")
    if (
        not isinstance(applicants, list)
        or not applicants
        or any(side not in SIDES for side in applicants)
        or len(set(applicants)) != len(applicants)
        or "applicant" not in applicants
    ):
        c.fail(f"{p}.applicants", "bad_applicants")
    elif kind == "confirmation" and set(applicants) != set(SIDES):
        # Judicial confirmation is applied for by both parties jointly (PML Art. 33).
        c.fail(f"{p}.applicants", "confirmation_needs_both_parties")
    c.text(data, "case_number", p)
    c.text(data, "category", p)
    amount = c.text(data, "claim_amount", p)
    if amount is not None and not _is_amount(amount):
        c.fail(f"{p}.claim_amount", "not_an_amount")
    c.text(data, "facts", p, limit="text")
    c.text(data, "requested_outcome", p, limit="text")

    parties = c.items(data, "parties", p)
    sides_present = set()
    for n, party in enumerate(parties):
        where = f"{p}.parties[{n}]"
        if not isinstance(party, dict):
            c.fail(where, "not_an_object")
            continue
        if party.get("side") not in SIDES:
            c.fail(f"{where}.side", "unknown_side")
        else:
            sides_present.add(party["side"])
        c.text(party, "kind", where)
        c.text(party, "name", where)
        c.text(party, "id_number", where, required=False, nullable=True)
        c.text(party, "service_address", where, required=False)
    for side in SIDES:
        if side not in sides_present:
            c.fail(f"{p}.parties", f"no_{side}")

    for n, item in enumerate(c.items(data, "evidence", p)):
        where = f"{p}.evidence[{n}]"
        if not isinstance(item, dict):
            c.fail(where, "not_an_object")
            continue
        c.text(item, "filename", where)
        c.hex64(item, "sha256", where)
        c.text(item, "media_type", where)
        size = item.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            c.fail(f"{where}.size", "not_a_size")
        if item.get("side") not in SIDES:
            c.fail(f"{where}.side", "unknown_side")
        c.url(item, "url", where, nullable=not evidence_urls_required)

    failure = data.get("failure")
    if kind == "transfer" and failure is None:
        # A transfer after failed mediation carries the Art. 21 record.
        c.fail(f"{p}.failure", "required")
    if failure is not None:
        if not isinstance(failure, dict):
            c.fail(f"{p}.failure", "not_an_object")
        else:
            where = f"{p}.failure"
            c.text(failure, "undisputed_facts", where, limit="text")
            c.text(failure, "reasons_for_failure", where, limit="text")
            c.text(failure, "cost_raising_conduct", where, required=False, limit="text")

    agreement = data.get("agreement")
    if kind == "confirmation" and agreement is None:
        c.fail(f"{p}.agreement", "required")
    if agreement is not None:
        if not isinstance(agreement, dict):
            c.fail(f"{p}.agreement", "not_an_object")
        else:
            where = f"{p}.agreement"
            c.text(agreement, "text", where, limit="text")
            c.hex64(agreement, "sha256", where)
            c.moment(agreement, "signed_at", where)
            c.url(agreement, "pdf_url", where, nullable=True)
            if agreement.get("pdf_url") is not None or agreement.get("pdf_sha256") is not None:
                c.hex64(agreement, "pdf_sha256", where)

    for n, event in enumerate(c.items(data, "timeline", p)):
        where = f"{p}.timeline[{n}]"
        if not isinstance(event, dict):
            c.fail(where, "not_an_object")
            continue
        c.text(event, "kind", where)
        c.moment(event, "at", where)
        if not isinstance(event.get("data", {}), dict):
            c.fail(f"{where}.data", "not_an_object")

    precheck = data.get("precheck")
    if precheck is not None and (
        not isinstance(precheck, dict)
        or not isinstance(precheck.get("ok"), bool)
        or not isinstance(precheck.get("findings", []), list)
    ):
        c.fail(f"{p}.precheck", "not_a_precheck")
    return c.details


MAX_AMOUNT = Decimal("1e12")  # yuan: far above any claim a mediation handles


def _is_amount(value: str) -> bool:
    """A sum of money in yuan: not negative, at most two decimal places, below MAX_AMOUNT."""
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return False
    if not amount.is_finite():
        return False
    exponent = amount.as_tuple().exponent
    return 0 <= amount < MAX_AMOUNT and isinstance(exponent, int) and exponent >= -2


# --- reading a filing ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadFiling:
    """A filing that may be taken: its package in the wire's data shape."""

    filing_id: str
    kind: str
    wire_format: str  # json | ecf
    package: dict[str, Any]
    sent_at: str | None


def read_cloudevent(body: bytes, webhook_id: str) -> ReadFiling:
    """Read a structured-mode CloudEvent carrying a court package, or raise InvalidPackage."""
    try:
        event = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidPackage([{"field": "body", "error": "not_json"}]) from None
    if not isinstance(event, dict):
        raise InvalidPackage([{"field": "body", "error": "not_an_object"}])
    c = _Checker()
    if event.get("specversion") != "1.0":
        c.fail("specversion", "unsupported_version")
    if event.get("id") != webhook_id:
        c.fail("id", "does_not_match_webhook_id")
    if not _is_uuid(webhook_id):
        c.fail("id", "not_a_filing_id")
    c.text(event, "source", "")
    kind = FILING_TYPES.get(str(event.get("type")))
    if kind is None:
        c.fail("type", "unknown_type")
    c.moment(event, "time", "")
    if event.get("datacontenttype") != "application/json":
        c.fail("datacontenttype", "unsupported_media_type")
    if event.get("dataschema") != PACKAGE_SCHEMA:
        c.fail("dataschema", "unknown_schema")
    data = c.obj(event, "data", "")
    if data is not None:
        c.details += check_package(data)
        if kind is not None and data.get("kind") != kind:
            c.fail("data.kind", "does_not_match_type")
        if event.get("subject") != data.get("case_number"):
            c.fail("subject", "does_not_match_case_number")
    if c.details or data is None or kind is None:
        raise InvalidPackage(c.details)
    return ReadFiling(
        filing_id=webhook_id,
        kind=kind,
        wire_format="json",
        package=dict(data),
        sent_at=str(event.get("time")),
    )


_NS = ecf.NSMAP | {"core": ecf.NS_CORE}
_FAILURE_HEADINGS = ("一、基本无争议事实\n", "二、调解不成的原因\n", "三、增加对方诉讼成本的行为\n")


def read_core_filing(body: bytes, webhook_id: str, schema: etree.XMLSchema | None) -> ReadFiling:
    """Read an ECF CoreFilingMessage into the package shape, or raise InvalidPackage.

    `schema` is `ecf.core_filing_validator()` (the caller loads it: that reads files). The
    ECF message carries no timeline or pre-check, and evidence links only when the sender
    put them in nc:BinaryLocationURI; what it lacks is left empty.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError:
        raise InvalidPackage([{"field": "body", "error": "not_xml"}]) from None
    if root.getroottree().docinfo.doctype:
        raise InvalidPackage([{"field": "body", "error": "doctype_not_allowed"}])
    if root.tag != f"{{{ecf.NS_CORE}}}CoreFilingMessage":
        raise InvalidPackage([{"field": "body", "error": "not_a_core_filing_message"}])
    if schema is not None and not schema.validate(root.getroottree()):
        error = schema.error_log.last_error
        detail = f"line {error.line}: {error.message}" if error is not None else ""
        raise InvalidPackage([{"field": "body", "error": "not_schema_valid", "detail": detail}])
    details: list[dict[str, str]] = []
    filing_id = _text(root, "nc:DocumentIdentification/nc:IdentificationID")
    if filing_id != webhook_id:
        details.append({"field": "DocumentIdentification", "error": "does_not_match_webhook_id"})
    if not _is_uuid(webhook_id):
        details.append({"field": "DocumentIdentification", "error": "not_a_filing_id"})
    case = root.find("civil:CivilCase", _NS)
    if case is None:
        raise InvalidPackage([*details, {"field": "CivilCase", "error": "required"}])

    parties: list[dict[str, Any]] = []
    side_of: dict[str, str] = {}
    for participant in case.findall("ecf:CaseAugmentation/ecf:CaseParticipant", _NS):
        party = _party(participant)
        parties.append({k: v for k, v in party.items() if k != "ref"})
        side_of[party["ref"]] = party["side"]

    agreement: dict[str, Any] | None = None
    failure: dict[str, Any] | None = None
    evidence: list[dict[str, Any]] = []
    documents = root.findall("core:FilingLeadDocument", _NS) + root.findall(
        "core:FilingConnectedDocument", _NS
    )
    for n, document in enumerate(documents):
        read = _document(document)
        where = f"document[{n}]"
        if (
            read["content"] is not None
            and hashlib.sha256(read["content"]).hexdigest() != read["sha256"]
        ):
            details.append({"field": where, "error": "digest_mismatch"})
            continue
        action = read["action"]
        if action == "申请司法确认":
            agreement = {
                "text": _utf8(read["content"], where, details),
                "sha256": read["ids"].get("signed-agreement-sha256"),
                "signed_at": read["effective"],
                "pdf_url": None,
                "pdf_sha256": None,
            }
        elif action == "调解不成转立案":
            failure = _failure_sections(_utf8(read["content"], where, details))
        elif action == "证据":
            filers = read["filers"]
            evidence.append(
                {
                    "filename": read["title"],
                    "sha256": read["sha256"],
                    "media_type": read["media_type"],
                    "size": int(read["size"]) if (read["size"] or "").isdigit() else -1,
                    "side": side_of.get(filers[0], "applicant") if filers else "applicant",
                    "url": read["url"],
                }
            )
    kind = "confirmation" if agreement is not None else "transfer"
    package: dict[str, Any] = {
        "package_version": PACKAGE_VERSION,
        "kind": kind,
        "corrects": None,
        "applicants": list(SIDES) if kind == "confirmation" else ["applicant"],
        "case_number": _text(case, "nc:CaseTrackingID"),
        "category": _text(case, "ecf:CauseOfActionCode"),
        "claim_amount": _text(case, "civil:AmountInControversy"),
        "facts": _text(case, "nc:ActivityDescriptionText"),
        "requested_outcome": _text(case, "civil:ReliefTypeCode"),
        "parties": parties,
        "evidence": evidence,
        "failure": failure,
        "agreement": agreement,
        "timeline": [],
        "precheck": None,
    }
    details += check_package(package, evidence_urls_required=False)
    if details:
        raise InvalidPackage(details)
    return ReadFiling(
        filing_id=webhook_id,
        kind=kind,
        wire_format="ecf",
        package=package,
        sent_at=_text(root, "nc:DocumentPostDate/nc:DateTime"),
    )


def _text(element: etree._Element, path: str) -> str | None:
    found = element.find(path, _NS)
    if found is None or found.text is None:
        return None
    return str(found.text).strip()


def _party(participant: etree._Element) -> dict[str, Any]:
    person = participant.find("ecf:EntityPerson", _NS)
    organisation = participant.find("ecf:EntityOrganization", _NS)
    if person is not None:
        entity, kind = person, "natural_person"
        name = _text(person, "nc:PersonName/nc:PersonFullName")
        id_number = _text(person, "nc:PersonOtherIdentification/nc:IdentificationID")
    elif organisation is not None:
        entity, kind = organisation, "organisation"
        name = _text(organisation, "nc:OrganizationName")
        id_number = _text(organisation, "nc:OrganizationIdentification/nc:IdentificationID")
    else:
        entity, kind, name, id_number = participant, "", None, None
    contact = participant.find("nc:ContactInformation", _NS)
    address = ""
    if contact is not None:
        address = (
            _text(contact, "nc:ContactEmailID")
            or _text(contact, "nc:ContactMailingAddress/nc:AddressFullText")
            or ""
        )
    return {
        "ref": entity.get(f"{{{ecf.NS_S}}}id") or "",
        "side": _text(participant, "ecf:CaseParticipantRoleCode"),
        "kind": kind,
        "name": name,
        "id_number": id_number,
        "service_address": address,
    }


def _document(document: etree._Element) -> dict[str, Any]:
    ids: dict[str, str] = {}
    for identification in document.findall("nc:DocumentIdentification", _NS):
        category = _text(identification, "nc:IdentificationCategoryText") or ""
        ids.setdefault(category, _text(identification, "nc:IdentificationID") or "")
    attachment = document.find(
        "ecf:DocumentRendition/ecf:DocumentRenditionMetadata/ecf:DocumentAttachment", _NS
    )
    content: bytes | None = None
    media_type = size = url = None
    if attachment is not None:
        encoded = _text(attachment, "nc:BinaryBase64Object")
        if encoded is not None:
            try:
                content = base64.b64decode(encoded, validate=True)
            except binascii.Error:
                content = b"\x00not base64"  # fails the digest check below
        media_type = _text(attachment, "nc:BinaryFormatStandardName")
        size = _text(attachment, "nc:BinarySizeValue")
        url = _text(attachment, "nc:BinaryLocationURI")
    filers = [
        value
        for element in document.findall("ecf:DocumentMetadata/ecf:FilingPartyID", _NS)
        if (value := _text(element, "nc:IdentificationID"))
    ]
    return {
        "title": _text(document, "nc:DocumentTitleText"),
        "action": _text(document, "ecf:DocumentMetadata/j:RegisterActionDescriptionText"),
        "ids": ids,
        "sha256": ids.get("SHA-256"),
        "content": content,
        "media_type": media_type,
        "size": size,
        "url": url,
        "filers": filers,
        "effective": _text(document, "nc:DocumentEffectiveDate/nc:DateTime"),
    }


def _utf8(content: bytes | None, where: str, details: list[dict[str, str]]) -> str | None:
    if content is None:
        return None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        details.append({"field": where, "error": "not_utf8"})
        return None


def _failure_sections(text: str | None) -> dict[str, Any] | None:
    """The three parts of the failure record, as ecf.build_core_filing wrote them."""
    if text is None:
        return None
    positions = [text.find(heading) for heading in _FAILURE_HEADINGS]
    if any(position < 0 for position in positions) or positions != sorted(positions):
        return {"undisputed_facts": text, "reasons_for_failure": "", "cost_raising_conduct": ""}
    parts = []
    for n, heading in enumerate(_FAILURE_HEADINGS):
        start = positions[n] + len(heading)
        end = positions[n + 1] if n + 1 < len(positions) else len(text)
        parts.append(text[start:end].removesuffix("\n"))
    return dict(
        zip(("undisputed_facts", "reasons_for_failure", "cost_raising_conduct"), parts, strict=True)
    )


# --- answers ---------------------------------------------------------------------------------


def json_bytes(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def receipt(
    wire_format: str, receipt_id: str, filing_id: str, received_at: datetime
) -> tuple[str, bytes]:
    """(content type, body) of the receipt for a filing received at `received_at`."""
    if wire_format == "ecf":
        return XML, ecf.build_message_receipt(filing_id, received_at)
    body = {
        "receipt_id": receipt_id,
        "filing_id": filing_id,
        "received_at": received_at.isoformat(),
        "status": "received",
    }
    return "application/json", json_bytes(body)


@dataclass(frozen=True)
class CallbackFacts:
    """A decision as the platform is told of it."""

    callback_id: str
    filing_id: str
    case_number: str  # the platform's
    status: str  # accepted | returned | docketed | confirmed | rejected
    decided_at: datetime
    court_case_number: str | None = None
    reason: str | None = None


def callback(facts: CallbackFacts, wire_format: str) -> tuple[str, bytes]:
    """(content type, body) of the callback telling the platform of a decision.

    An ECF filing's docketing and return go back as a ReviewFilingCallbackMessage, the
    answer ECF itself defines; every other decision is a CloudEvent.
    """
    if wire_format == "ecf" and facts.status in ("docketed", "returned"):
        result = ecf.ReviewResult(
            filing_id=facts.filing_id,
            status="accepted" if facts.status == "docketed" else "rejected",
            case_tracking_id=facts.case_number,
            reviewed_at=facts.decided_at,
            case_docket_id=facts.court_case_number,
            reason=facts.reason,
        )
        return XML, ecf.build_review_callback(result)
    event = {
        "specversion": "1.0",
        "id": facts.callback_id,
        "source": CALLBACK_SOURCE,
        "type": f"cn.court.filing.{facts.status}.v1",
        "subject": facts.filing_id,
        "time": facts.decided_at.isoformat(),
        "datacontenttype": "application/json",
        "data": {
            "filing_id": facts.filing_id,
            "case_number": facts.case_number,
            "status": facts.status,
            "court_case_number": facts.court_case_number,
            "reason": facts.reason,
            "decided_at": facts.decided_at.isoformat(),
        },
    }
    return CLOUDEVENTS_JSON, json_bytes(event)


def package_text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
