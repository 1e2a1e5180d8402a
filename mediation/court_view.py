"""What the court part of a case page shows each viewer: the labels of filing statuses,
deliveries, endings and other routes, the pre-check's findings in words, and the court
section's context (filings, what each party may do next). The labels of what crosses the wire
(filing kinds, pre-check grounds, sides) are `courtwire.words`, shared with the court desk."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from cases.access import viewer_of
from cases.court.actions import court_overview
from cases.court.precheck import Precheck
from cases.models import Case
from cases.status import Status
from courtwire.words import FILING_KIND_LABELS, GROUND_LABELS, SIDE_WORDS
from mediation.i18n import N_
from mediation.labels import FILING_STATUS_FOR_PARTIES
from mediation.web import gettext

# A platform filing's status as the parties see it is mediation.labels.FILING_STATUS_FOR_PARTIES
# (the timeline says the court's decisions with it too).

DELIVERY_LABELS = {
    "pending": N_("waiting to be sent"),
    "retrying": N_("the court's system did not answer yet; retrying"),
    "delivered": N_("delivered"),
    "dead": N_("not delivered; the administrators have been alerted"),
}


ENDING_LABELS = {
    "failed": N_("Mediation failed"),
    "withdrawn": N_("A party withdrew"),
    "timed_out": N_("The time limit was reached"),
}


ROUTE_LABELS = {
    "litigation": N_("Litigation at a people's court"),
    "arbitration": N_("Arbitration, where the parties agreed to it"),
    "administrative": N_("Administrative routes (complaints to the competent authority)"),
}


# Each pre-check finding's sentence (cases.court.precheck codes) for the parties and the
# mediator: what is wrong and what to do about it. The desk states the same codes for a
# clerk reviewing the file (courtdesk.messages.FINDINGS_FOR_CLERKS), so the words differ.
FINDINGS_FOR_PARTIES = {
    "agreement_not_effective": N_(
        "There is no agreement in effect: every party and the mediator must sign it first."
    ),
    "seal_missing": N_("The agreement does not carry the mediation organisation's seal."),
    "organisation_proof_missing": N_(
        "The case has no mediation organisation or mediator on record, so there is no proof "
        "that an organisation mediated."
    ),
    "no_session_record": N_(
        "No online session is on record; the signed and sealed agreement is the proof of mediation."
    ),
    "party_missing": N_("The %(side)s is missing from the case."),
    "party_id_missing": N_(
        "%(name)s has no identity number (resident ID or unified social credit code) on record."
    ),
    "party_id_invalid": N_("The identity number of %(name)s is not valid."),
    "service_address_missing": N_("%(name)s has no address for service on record."),
    "property_proof_missing": N_(
        "Term %(term)s transfers property: choose the evidence that proves the property rights."
    ),
    "identity_status_matter": N_(
        "Term %(term)s concerns an identity relationship (marriage, adoption, parentage): the "
        "court does not confirm such agreements."
    ),
    "ownership_confirmation": N_(
        "Term %(term)s asks to confirm who owns property or intellectual property: the court "
        "does not confirm such terms."
    ),
    "signature_missing": N_("Signatures are missing (%(roles)s): the agreement is not in effect."),
    "no_terms": N_("The agreement has no terms."),
    "term_without_obligor": N_("Term %(term)s does not say who must perform it."),
    "term_without_manner": N_("Term %(term)s does not say how it is to be performed."),
    "term_without_time_limit": N_("Term %(term)s has no time limit for performance."),
    "term_amount_unclear": N_("The amount in term %(term)s is missing or unclear."),
    "confirmation_deadline_passed": N_(
        "The 30 days for applying ended on %(date)s: the court would reject the application."
    ),
    "confirmation_deadline_near": N_(
        "The 30 days for applying end on %(date)s (%(days)s days left): both parties should "
        "apply soon."
    ),
    "end_record_incomplete": N_(
        "The mediator has not yet completed the record of the failed mediation (the undisputed "
        "facts and why it failed)."
    ),
}


def finding_lines(request: Request, precheck: Precheck | dict[str, Any]) -> list[dict[str, Any]]:
    """Each finding with its translated sentence, blocking ones first."""
    raw: dict[str, Any] = precheck.as_json() if isinstance(precheck, Precheck) else precheck
    lines = []
    findings: list[dict[str, Any]] = list(raw.get("findings") or [])
    for finding in findings:
        params = {str(k): str(v) for k, v in (finding.get("params") or {}).items()}
        if "side" in params:
            params["side"] = gettext(request, SIDE_WORDS.get(params["side"], params["side"]))
        if "roles" in params:
            params["roles"] = "、".join(
                gettext(request, SIDE_WORDS.get(role, role)) for role in params["roles"].split(",")
            )
        message = FINDINGS_FOR_PARTIES.get(finding["code"], finding["code"])
        lines.append(
            {
                "code": finding["code"],
                "blocks": bool(finding.get("blocks")),
                "ground": gettext(request, GROUND_LABELS.get(finding.get("ground", ""), "")),
                "text": gettext(request, message, **params),
            }
        )
    return sorted(lines, key=lambda line: not line["blocks"])


def court_labels() -> dict[str, Any]:
    return {
        "filing_status_labels": FILING_STATUS_FOR_PARTIES,
        "filing_kind_labels": FILING_KIND_LABELS,
        "delivery_labels": DELIVERY_LABELS,
        "ending_labels": ENDING_LABELS,
        "route_labels": ROUTE_LABELS,
    }


async def court_context(request: Request, case: Case, viewer_side: str | None) -> dict[str, Any]:
    """What the case page's court section needs (included by disputes._case_page)."""
    overview = await court_overview(case)
    viewer = viewer_of(request.state.user)
    status = str(case.status)
    pending = overview.awaiting
    is_mediator = viewer.role == "mediator" and case.mediator_id == viewer.user_id
    return {
        "court": overview,
        "court_findings": {
            line.filing_id: finding_lines(request, line.precheck) for line in overview.filings
        },
        "court_actions": {
            "end": is_mediator and status == Status.IN_MEDIATION,
            "complete_record": is_mediator
            and overview.end_record is not None
            and status in ("failed", "timed_out", "withdrawn", "returned_for_correction"),
            "transfer": viewer_side == "applicant" and status in ("failed", "timed_out"),
            "confirm": viewer_side is not None
            and status == Status.SETTLED
            and not (pending is not None and viewer_side in pending.applicants),
            "correct": viewer_side is not None
            and overview.returned is not None
            and status == Status.RETURNED_FOR_CORRECTION
            and (overview.returned.kind == "confirmation" or viewer_side == "applicant"),
        },
        **court_labels(),
    }
