"""Checking a dispute filing: one pure function from raw fields to a filing or field errors.

Errors are stable codes per field; the web shell turns them into translated sentences.
Nothing here touches storage, so "nothing saved on error" is structural: an action only
ever receives a checked `Filing`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from cases.categories import BY_CODE, Domain
from cases.identity import (
    is_valid_mainland_mobile,
    is_valid_resident_id,
    is_valid_uscc,
    normalise_mobile,
    normalise_resident_id,
    normalise_uscc,
)
from cases.models import PartyKind
from realtime.text import is_storable

MAX_CLAIM = Decimal("100000000.00")  # a ceiling well above any consumer or tourism dispute
FACTS_MIN, FACTS_MAX = 10, 5000
OUTCOME_MAX = 2000
NAME_MAX = 100
ADDRESS_MAX = 300
REFERENCE_MAX = 100  # a partner platform's own order or ticket number
ORDER_NUMBER_MAX = 64  # the order the dispute is about (cases.duplicates matches on it)

# What the applicant must agree to before filing (online mediation rules Art. 4, 8, 17).
REQUIRED_CONSENTS = ("consent_voluntary", "consent_service_address", "consent_false_mediation")

LANGUAGES = ("zh", "en")

PARTY_FIELDS = ("kind", "name", "id_number", "mobile", "email", "address")
# Every field a filing has (what check_filing reads).
FIELD_NAMES = (
    "domain",
    "category",
    *(f"{side}_{name}" for side in ("applicant", "respondent") for name in PARTY_FIELDS),
    "claim_amount",
    "facts",
    "requested_outcome",
    "partner_reference",
    "order_number",
    "language",
    "has_arbitration_clause",
    *REQUIRED_CONSENTS,
)

APPLICANT_KINDS = (PartyKind.NATURAL_PERSON, PartyKind.ORGANISATION)
RESPONDENT_KINDS = (
    PartyKind.MERCHANT,
    PartyKind.PLATFORM,
    PartyKind.NATURAL_PERSON,
    PartyKind.ORGANISATION,
)


@dataclass(frozen=True)
class PartyInput:
    kind: PartyKind
    name: str
    id_number: str | None
    mobile: str | None
    email: str | None
    service_address: str


@dataclass(frozen=True)
class Filing:
    domain: Domain
    category: str
    applicant: PartyInput
    respondent: PartyInput
    claim_amount: Decimal
    facts: str
    requested_outcome: str
    consents: tuple[str, ...]
    # Mediation in English needs a mediator who speaks it (foreign tourists, Art. 10).
    language: str = "zh"
    has_arbitration_clause: bool = False
    # The order number on the merchant's or platform's side, if the applicant has one: the
    # same order filed again is the same dispute (cases.duplicates).
    order_number: str | None = None


FieldErrors = dict[str, str]


def _text(raw: Mapping[str, str], name: str) -> str:
    return (raw.get(name) or "").strip()


def check_amount(value: str) -> tuple[Decimal | None, str | None]:
    cleaned = value.strip().replace(",", "").replace("，", "").removeprefix("¥").strip()
    if not cleaned:
        return None, "required"
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None, "amount_not_a_number"
    if not amount.is_finite():
        return None, "amount_not_a_number"
    if amount <= 0:
        return None, "amount_not_positive"
    if amount > MAX_CLAIM:
        return None, "amount_too_large"
    if amount != amount.quantize(Decimal("0.01")):
        return None, "amount_too_precise"
    return amount.quantize(Decimal("0.01")), None


def check_email(value: str) -> bool:
    # Deliberately modest: one @, a dot in the domain, no spaces. Delivery proves the rest.
    local, at, domain = value.partition("@")
    return bool(
        at and local and "." in domain.strip(".") and " " not in value and len(value) <= 254
    )


def _check_party(
    raw: Mapping[str, str], prefix: str, kinds: tuple[PartyKind, ...], errors: FieldErrors
) -> PartyInput | None:
    kind_raw = _text(raw, f"{prefix}_kind")
    try:
        kind = PartyKind(kind_raw)
    except ValueError:
        kind = None
    if kind not in kinds:
        errors[f"{prefix}_kind"] = "choose_one"
        kind = None  # a kind this side may not have: do not check the ID number against it
    name = _text(raw, f"{prefix}_name")
    if not name:
        errors[f"{prefix}_name"] = "required"
    elif len(name) > NAME_MAX:
        errors[f"{prefix}_name"] = "too_long"

    id_number: str | None = _text(raw, f"{prefix}_id_number") or None
    is_applicant = prefix == "applicant"
    if id_number is None:
        # Art. 8: the applicant states identity; a respondent's number is often unknown.
        if is_applicant:
            errors[f"{prefix}_id_number"] = "required"
    elif kind is PartyKind.NATURAL_PERSON:
        id_number = normalise_resident_id(id_number)
        if not is_valid_resident_id(id_number):
            errors[f"{prefix}_id_number"] = "resident_id_invalid"
    elif kind is not None:
        id_number = normalise_uscc(id_number)
        if not is_valid_uscc(id_number):
            errors[f"{prefix}_id_number"] = "uscc_invalid"

    mobile: str | None = _text(raw, f"{prefix}_mobile") or None
    if mobile is not None:
        mobile = normalise_mobile(mobile)
        if not is_valid_mainland_mobile(mobile):
            errors[f"{prefix}_mobile"] = "mobile_invalid"
    elif is_applicant:
        errors[f"{prefix}_mobile"] = "required"  # Art. 8: a valid phone number

    email: str | None = _text(raw, f"{prefix}_email") or None
    if email is not None and not check_email(email):
        errors[f"{prefix}_email"] = "email_invalid"
    if not is_applicant and mobile is None and email is None:
        # Without a way to reach the respondent the invitation cannot be served (Art. 15).
        errors[f"{prefix}_mobile"] = "respondent_contact_required"

    address = _text(raw, f"{prefix}_address")
    if is_applicant and not address:
        errors[f"{prefix}_address"] = "required"
    elif len(address) > ADDRESS_MAX:
        errors[f"{prefix}_address"] = "too_long"

    if kind is None:
        return None
    return PartyInput(kind, name, id_number, mobile, email, address)


def check_filing(raw: Mapping[str, str]) -> tuple[Filing | None, FieldErrors]:
    """Return the checked filing, or None and an error code for every field that is wrong."""
    errors: FieldErrors = {}
    try:
        domain: Domain | None = Domain(_text(raw, "domain"))
    except ValueError:
        domain = None
        errors["domain"] = "choose_one"
    category = _text(raw, "category")
    known = BY_CODE.get(category)
    if known is None or (domain is not None and known.domain is not domain):
        errors["category"] = "choose_one"

    applicant = _check_party(raw, "applicant", APPLICANT_KINDS, errors)
    respondent = _check_party(raw, "respondent", RESPONDENT_KINDS, errors)

    amount, amount_error = check_amount(raw.get("claim_amount") or "")
    if amount_error:
        errors["claim_amount"] = amount_error

    facts = _text(raw, "facts")
    if not facts:
        errors["facts"] = "required"
    elif len(facts) < FACTS_MIN:
        errors["facts"] = "too_short"
    elif len(facts) > FACTS_MAX:
        errors["facts"] = "too_long"
    outcome = _text(raw, "requested_outcome")
    if not outcome:
        errors["requested_outcome"] = "required"
    elif len(outcome) > OUTCOME_MAX:
        errors["requested_outcome"] = "too_long"

    if len(_text(raw, "partner_reference")) > REFERENCE_MAX:
        errors["partner_reference"] = "too_long"
    order_number = _text(raw, "order_number") or None
    if order_number is not None and len(order_number) > ORDER_NUMBER_MAX:
        errors["order_number"] = "too_long"
    language = _text(raw, "language") or "zh"
    if language not in LANGUAGES:
        errors["language"] = "choose_one"
    arbitration_clause = _text(raw, "has_arbitration_clause") in ("on", "true", "1", "yes")

    for consent in REQUIRED_CONSENTS:
        if _text(raw, consent) not in ("on", "true", "1", "yes"):
            errors[consent] = "consent_required"

    # Last, so it is the error shown: text nothing could store or send to the court (NUL,
    # control characters, lone surrogates from a JSON client's "\ud800").
    for name in FIELD_NAMES:
        if not is_storable(raw.get(name) or ""):
            errors[name] = "bad_text"

    if errors:
        return None, errors
    assert domain and applicant and respondent and amount is not None
    return (
        Filing(
            domain=domain,
            category=category,
            applicant=applicant,
            respondent=respondent,
            claim_amount=amount,
            facts=facts,
            requested_outcome=outcome,
            consents=REQUIRED_CONSENTS,
            language=language,
            has_arbitration_clause=arbitration_clause,
            order_number=order_number,
        ),
        {},
    )
