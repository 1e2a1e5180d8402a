"""What the desk says: error codes and the desk's own labels as English message ids,
translated when shown. The labels of what crosses the wire (filing kinds, party kinds, sides,
pre-check grounds) are `courtwire.words`, and the timeline's are `cases.timeline`: the platform
says them in the same words."""

from __future__ import annotations

from courtdesk.i18n import N_

ERROR_MESSAGES: dict[str, str] = {
    "not_found": N_("Not found."),
    "filing_not_found": N_("There is no such filing."),
    "csrf_failed": N_("The form had expired. Please try again."),
    "sign_in_failed": N_("Wrong user name or password."),
    "sign_in_locked": N_(
        "Too many failed attempts: signing in is locked for a while. Try again later."
    ),
    "reason_required": N_("Give the reason."),
    "reason_too_long": N_("The reason is too long (at most %(limit)s characters)."),
    "unknown_type_code": N_("Choose a case type from the list."),
    "not_a_confirmation": N_(
        "Only an application for judicial confirmation can be confirmed or refused."
    ),
    "confirmation_needs_docket": N_("Docket the application before deciding on it."),
    "already_docketed": N_("This filing has already been docketed as %(number)s."),
    "already_accepted": N_("This filing has already been accepted."),
    "already_decided": N_("This filing has already been decided."),
    "filing_changed_meanwhile": N_("Someone else changed this filing meanwhile. Look at it again."),
    "case_number_format": N_("The court case number could not be formed."),
    "nothing_selected": N_("Select at least one filing."),
    "bad_username": N_(
        "A user name is 2 to 64 lower-case letters, digits, dots, dashes or underscores."
    ),
    "bad_password": N_("A password needs at least %(minimum)s characters."),
    "clerk_exists": N_("A clerk with this user name exists already."),
    "no_link": N_("The filing carries no link to this file, so it cannot be fetched."),
    "not_on_platform": N_(
        "The filing's link to this file does not point to the mediation platform, so the desk "
        "did not fetch it."
    ),
    "link_gone": N_(
        "The platform's link to this file has expired or was withdrawn. Ask the platform to "
        "send the filing again if the file is still needed."
    ),
    "unreachable": N_("The platform could not be reached to fetch this file. Try again later."),
    "fetch_refused": N_("The platform did not hand out this file (HTTP %(status)s)."),
    "too_large": N_("The file fetched is larger than the filing says. It is not shown."),
    "digest_mismatch": N_(
        "The file fetched does not match the SHA-256 named in the filing. It is not shown."
    ),
}

# The desk's own filing statuses, in a clerk's words. The platform tells the parties where
# their filing is in other words (mediation.court_view.FILING_STATUS_FOR_PARTIES): its filing
# is a different record with other states, and it speaks to another audience.
FILING_STATUS_FOR_CLERKS = {
    "received": N_("Received"),
    "accepted": N_("Accepted"),
    "returned": N_("Returned for correction"),
    "docketed": N_("Docketed"),
    "confirmed": N_("Confirmation granted"),
    "rejected": N_("Confirmation refused"),
}


ACTION_LABELS = {
    "accepted": N_("Accepted"),
    "returned": N_("Returned for correction"),
    "docketed": N_("Docketed"),
    "confirmed": N_("Granted judicial confirmation"),
    "rejected": N_("Refused judicial confirmation"),
}

TYPE_CODE_LABELS = {
    "民初": N_("First-instance civil case (民初)"),
    "诉前调确": N_("Judicial confirmation after pre-litigation mediation (诉前调确)"),
    "民诉前调": N_("Pre-litigation mediation (民诉前调)"),
}

OUTBOX_LABELS = {
    "pending": N_("Being sent to the platform"),
    "delivered": N_("Delivered to the platform"),
    "dead": N_("Delivery failed"),
}


# The platform's pre-check travels as codes (docs/court-wire.md: code, ground, blocks, params);
# the desk states each finding for a clerk reviewing the file. The platform words the same
# codes for the parties, with what to do about them (mediation.court_view.FINDINGS_FOR_PARTIES).
# A code not listed here is shown as it came; the grounds' labels are courtwire.words.
FINDINGS_FOR_CLERKS = {
    "agreement_not_effective": N_("The agreement was not in effect (signatures missing)."),
    "seal_missing": N_("The agreement does not carry the mediation organisation's seal."),
    "organisation_proof_missing": N_("No mediation organisation or mediator is on record."),
    "no_session_record": N_(
        "No online session is on record; the signed and sealed agreement is the proof of mediation."
    ),
    "party_missing": N_("The %(side)s is missing."),
    "party_id_missing": N_("%(name)s has no identity number on record."),
    "party_id_invalid": N_("The identity number of %(name)s is not valid."),
    "service_address_missing": N_("%(name)s has no address for service on record."),
    "property_proof_missing": N_("Term %(term)s transfers property without proof of the rights."),
    "identity_status_matter": N_("Term %(term)s concerns an identity relationship."),
    "ownership_confirmation": N_("Term %(term)s asks to confirm ownership of property or IP."),
    "signature_missing": N_("Signatures are missing: %(roles)s."),
    "no_terms": N_("The agreement has no terms."),
    "term_without_obligor": N_("Term %(term)s does not say who must perform it."),
    "term_without_manner": N_("Term %(term)s does not say how it is to be performed."),
    "term_without_time_limit": N_("Term %(term)s has no time limit for performance."),
    "term_amount_unclear": N_("The amount in term %(term)s is missing or unclear."),
    "confirmation_deadline_passed": N_("The 30 days for applying ended on %(date)s."),
    "confirmation_deadline_near": N_("The 30 days for applying end on %(date)s."),
    "end_record_incomplete": N_("The record of the failed mediation is incomplete."),
}
