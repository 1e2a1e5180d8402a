"""What the desk says: error codes and labels as English message ids, translated when shown."""

from __future__ import annotations

from cases.court.desk.i18n import N_

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
    "unreachable": N_("The platform could not be reached to fetch this file. Try again later."),
    "fetch_refused": N_("The platform did not hand out this file (HTTP %(status)s)."),
    "too_large": N_("The file fetched is larger than the filing says. It is not shown."),
    "digest_mismatch": N_(
        "The file fetched does not match the SHA-256 named in the filing. It is not shown."
    ),
}

STATUS_LABELS = {
    "received": N_("Received"),
    "accepted": N_("Accepted"),
    "returned": N_("Returned for correction"),
    "docketed": N_("Docketed"),
    "confirmed": N_("Confirmation granted"),
    "rejected": N_("Confirmation refused"),
}

KIND_LABELS = {
    "transfer": N_("Transfer to litigation"),
    "confirmation": N_("Judicial confirmation"),
}

ACTION_LABELS = {
    "accepted": N_("Accepted"),
    "returned": N_("Returned for correction"),
    "docketed": N_("Docketed"),
    "confirmed": N_("Granted judicial confirmation"),
    "rejected": N_("Refused judicial confirmation"),
}

SIDE_LABELS = {"applicant": N_("Applicant"), "respondent": N_("Respondent")}

PARTY_KIND_LABELS = {
    "natural_person": N_("Natural person"),
    "organisation": N_("Organisation"),
    "merchant": N_("Merchant"),
    "platform": N_("Platform"),
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

TIMELINE_LABELS = {
    "filed": N_("Filed"),
    "evidence_added": N_("Evidence added"),
    "status_changed": N_("Status changed"),
}

FORMAT_LABELS = {"json": N_("JSON (CloudEvents)"), "ecf": N_("ECF 4.01 XML")}
