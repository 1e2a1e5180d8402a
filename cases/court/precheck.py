"""Pre-checking a court handoff before anything is sent, with a reason for each finding.

A judicial confirmation application (People's Mediation Law Art. 33; Civil Procedure Law
2023 Art. 205) is checked against the grounds of the Supreme People's Court's interpretation
of the Civil Procedure Law (2022) as far as the platform can check them itself:

- Art. 354, the materials: the agreement, in effect, signed by everyone with the
  organisation's seal; proof that the organisation mediated; both parties' identities and
  addresses for service; proof of property rights where the terms transfer property.
- Art. 355, applications the court does not accept: identity-status matters (marriage,
  adoption, parentage) and the confirmation of ownership of property or intellectual property.
- Art. 358, grounds for rejecting: an agreement that is not voluntary (a signature missing)
  or whose terms are unclear (a term without an obligor, a manner or a time limit of
  performance, or with an unclear amount), and the 30 days for applying having passed.

A transfer to litigation after failed mediation is checked for the Art. 21 record and the
parties' particulars a complaint states (Civil Procedure Law 2023 Art. 124).

Each finding carries a stable `code` (the shell translates it into a sentence), the `ground`
it comes from, whether it `blocks` sending, and `params` for the sentence. Findings that do
not block are shown as warnings and travel with the package, so the clerk sees them too.

Pure: no I/O, no clock (the caller passes today's local date and the computed time limit).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from cases.identity import is_valid_resident_id, is_valid_uscc

SIDES = ("applicant", "respondent")
REQUIRED_SIGNERS = ("applicant", "respondent", "mediator")
# Fewer days than this left to apply: say so (a warning, not a block).
DEADLINE_WARNING_DAYS = 5

ART_354 = "art354"
ART_355 = "art355"
ART_358 = "art358"
ART_21 = "art21"
# A transfer is a complaint to the court: the parties' particulars are those a complaint must
# state (Civil Procedure Law 2023 Art. 124), not a confirmation's materials (Art. 354).
CPL_124 = "cpl124"


@dataclass(frozen=True)
class Finding:
    code: str
    ground: str  # art354 | art355 | art358 | art21 | cpl124
    blocks: bool
    params: Mapping[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "ground": self.ground,
            "blocks": self.blocks,
            "params": dict(self.params),
        }


@dataclass(frozen=True)
class Precheck:
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        """Nothing blocks: the application may be sent (warnings may remain)."""
        return not any(finding.blocks for finding in self.findings)

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if finding.blocks)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if not finding.blocks)

    def codes(self) -> list[str]:
        return [finding.code for finding in self.findings]

    def as_json(self) -> dict[str, object]:
        return {"ok": self.ok, "findings": [finding.as_json() for finding in self.findings]}


# --- what is checked ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PartyFacts:
    side: str
    kind: str  # natural_person | organisation | merchant | platform
    name: str
    id_number: str | None
    service_address: str


@dataclass(frozen=True)
class Term:
    """One agreed term, as the agreement's content holds it (cases.agreements.rules)."""

    text: str
    obligor_side: str
    amount: str | None
    manner: str
    due_on: str | None

    @classmethod
    def of(cls, raw: Mapping[str, object]) -> Term:
        def text(name: str) -> str:
            value = raw.get(name)
            return value.strip() if isinstance(value, str) else ""

        return cls(
            text=text("text"),
            obligor_side=text("obligor_side"),
            amount=text("amount") or None,
            manner=text("manner"),
            due_on=text("due_on") or None,
        )


@dataclass(frozen=True)
class AgreementFacts:
    effective_on: date | None  # the local date it took effect; None if it has not
    signed_roles: frozenset[str]
    seal_valid: bool
    terms: tuple[Term, ...]


@dataclass(frozen=True)
class ConfirmationFacts:
    parties: tuple[PartyFacts, ...]
    organisation: str | None  # the organisation that mediated
    mediator: str | None
    sessions_held: int  # online sessions that took place (the record of mediating)
    agreement: AgreementFacts | None
    # The last day to apply (30 days from the agreement's effect, a rest day rolled on), as
    # computed by the deadline engine; None without an effective agreement.
    apply_by: date | None
    today: date
    # Evidence items the applicants point to as proof of property rights.
    property_proofs: int = 0


# Identity-status matters the court will not confirm (Art. 355 (3)): the validity or
# dissolution of a marriage, adoption or parent-child relationship.
_IDENTITY_STATUS = re.compile(r"离婚|婚姻|收养|亲子|父母子女关系|身份关系|监护")
# Confirming who owns property or intellectual property (Art. 355 (5)).
_OWNERSHIP = re.compile(
    r"确权|(?:确认|认定)[^。；]{0,20}(?:所有权|产权|物权|著作权|版权|专利权|商标(?:专用)?权|知识产权|归属)"
    r"|(?:所有权|产权|物权|著作权|版权|专利权|商标(?:专用)?权|知识产权)[^。；]{0,6}归"
)
# A term that moves property from one party to the other: Art. 354 wants proof of the rights.
_PROPERTY_TRANSFER = re.compile(
    r"过户|产权转移|所有权转移|转让[^。；]{0,10}(?:房|车|股权|商标|专利)|交付(?:房屋|车辆)"
)
# An amount written in the term's text ("退还团费1,500元", "1500.00 元").
_WRITTEN_AMOUNT = re.compile(r"([0-9][0-9,]*(?:\.[0-9]{1,2})?)\s*元")
# Money the term speaks of without saying how much.
_MONEY_WORDS = re.compile(r"元|款|费|赔偿|补偿|违约金|利息")


def check_confirmation(facts: ConfirmationFacts) -> Precheck:
    """Every finding for a joint application for judicial confirmation, blocking first."""
    findings: list[Finding] = []
    findings += _materials(facts)
    agreement = facts.agreement
    if agreement is not None:
        findings += _refusals(agreement.terms)
        findings += _rejections(agreement, facts)
    return _ordered(findings)


def check_transfer(
    parties: Sequence[PartyFacts],
    undisputed_facts: str,
    reasons_for_failure: str,
) -> Precheck:
    """A transfer to litigation: the Art. 21 record must be complete; the parties'
    particulars are what the court serves on (gaps are warnings: the court may ask for them)."""
    findings: list[Finding] = []
    if not undisputed_facts.strip() or not reasons_for_failure.strip():
        findings.append(Finding("end_record_incomplete", ART_21, True))
    findings += [
        Finding(f.code, f.ground, blocks=f.code == "party_missing", params=f.params)
        for f in _parties(parties, CPL_124)
    ]
    return _ordered(findings)


def _ordered(findings: list[Finding]) -> Precheck:
    return Precheck(tuple(sorted(findings, key=lambda f: not f.blocks)))


def _parties(parties: Sequence[PartyFacts], ground: str = ART_354) -> list[Finding]:
    findings = []
    for side in SIDES:
        if not any(p.side == side for p in parties):
            findings.append(Finding("party_missing", ground, True, {"side": side}))
    for party in parties:
        params = {"side": party.side, "name": party.name}
        number = (party.id_number or "").strip()
        if not number:
            findings.append(Finding("party_id_missing", ground, True, params))
        elif not _valid_id(party.kind, number):
            findings.append(Finding("party_id_invalid", ground, True, params))
        if not party.service_address.strip():
            findings.append(Finding("service_address_missing", ground, True, params))
    return findings


def _valid_id(kind: str, number: str) -> bool:
    if kind == "natural_person":
        return is_valid_resident_id(number)
    return is_valid_uscc(number)


def _materials(facts: ConfirmationFacts) -> list[Finding]:
    findings = []
    agreement = facts.agreement
    if agreement is None or agreement.effective_on is None:
        findings.append(Finding("agreement_not_effective", ART_354, True))
    elif not agreement.seal_valid:
        findings.append(Finding("seal_missing", ART_354, True))
    if not facts.organisation or not facts.mediator:
        findings.append(Finding("organisation_proof_missing", ART_354, True))
    elif facts.sessions_held == 0:
        # The signed agreement and seal prove the mediation; a session record adds to it.
        findings.append(Finding("no_session_record", ART_354, False))
    findings += _parties(facts.parties)
    if agreement is not None and facts.property_proofs == 0:
        for number, term in enumerate(agreement.terms, 1):
            if _PROPERTY_TRANSFER.search(term.text):
                findings.append(
                    Finding("property_proof_missing", ART_354, True, {"term": str(number)})
                )
    return findings


def _refusals(terms: Sequence[Term]) -> list[Finding]:
    findings = []
    for number, term in enumerate(terms, 1):
        if _IDENTITY_STATUS.search(term.text):
            findings.append(Finding("identity_status_matter", ART_355, True, {"term": str(number)}))
        if _OWNERSHIP.search(term.text):
            findings.append(Finding("ownership_confirmation", ART_355, True, {"term": str(number)}))
    return findings


def _rejections(agreement: AgreementFacts, facts: ConfirmationFacts) -> list[Finding]:
    findings = []
    missing = [role for role in REQUIRED_SIGNERS if role not in agreement.signed_roles]
    if missing:
        findings.append(Finding("signature_missing", ART_358, True, {"roles": ",".join(missing)}))
    if not agreement.terms:
        findings.append(Finding("no_terms", ART_358, True))
    for number, term in enumerate(agreement.terms, 1):
        params = {"term": str(number)}
        if term.obligor_side not in SIDES:
            findings.append(Finding("term_without_obligor", ART_358, True, params))
        if not term.manner:
            findings.append(Finding("term_without_manner", ART_358, True, params))
        if not _valid_date(term.due_on):
            findings.append(Finding("term_without_time_limit", ART_358, True, params))
        if not _amount_clear(term):
            findings.append(Finding("term_amount_unclear", ART_358, True, params))
    if facts.apply_by is not None:
        days_left = (facts.apply_by - facts.today).days
        deadline = {"date": facts.apply_by.isoformat()}
        if days_left < 0:
            findings.append(Finding("confirmation_deadline_passed", ART_358, True, deadline))
        elif days_left < DEADLINE_WARNING_DAYS:
            findings.append(
                Finding(
                    "confirmation_deadline_near",
                    ART_358,
                    False,
                    {**deadline, "days": str(days_left)},
                )
            )
    return findings


def _valid_date(value: str | None) -> bool:
    if not value:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _decimal(value: str) -> Decimal | None:
    try:
        amount = Decimal(value.replace(",", ""))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _amount_clear(term: Term) -> bool:
    """An amount is clear when the term names one valid amount, and any amount written in
    its text says the same; a term about money with no amount at all is unclear."""
    written = [_decimal(match) for match in _WRITTEN_AMOUNT.findall(term.text)]
    if term.amount is None:
        return not written and not _MONEY_WORDS.search(term.text)
    amount = _decimal(term.amount)
    if amount is None or amount <= 0:
        return False
    return all(value == amount for value in written)
