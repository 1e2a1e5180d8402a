"""The sentence shown for each stable error code the domain raises."""

from __future__ import annotations

from mediation.i18n import N_

ERROR_MESSAGES: dict[str, str] = {
    "required": N_("This field is required."),
    "choose_one": N_("Please choose one of the options."),
    "too_long": N_("This is too long."),
    "too_short": N_("Please describe this in a little more detail (at least 10 characters)."),
    "resident_id_invalid": N_(
        "This is not a valid resident ID number (18 characters; please check the last one)."
    ),
    "uscc_invalid": N_(
        "This is not a valid unified social credit code (18 characters; please check it)."
    ),
    "mobile_invalid": N_("Please enter an 11-digit mainland mobile number starting with 1."),
    "email_invalid": N_("Please enter a valid email address."),
    "respondent_contact_required": N_(
        "Give the respondent's mobile number or email so the invitation can be served."
    ),
    "amount_not_a_number": N_("Please enter an amount in yuan, such as 1280.50."),
    "amount_not_positive": N_("The amount must be greater than zero."),
    "amount_too_large": N_("The amount is larger than this platform accepts (100,000,000 yuan)."),
    "amount_too_precise": N_("Amounts have at most two decimal places (fen)."),
    "consent_required": N_("Please read and confirm this statement to continue."),
    "evidence_empty": N_("The file %(name)s is empty."),
    "evidence_too_large": N_("The file %(name)s is larger than 20 MB."),
    "evidence_type_not_allowed": N_(
        "The file %(name)s is not an accepted type (PDF, image, audio, video, Word or text)."
    ),
    "evidence_extension_mismatch": N_(
        "The content of %(name)s does not match its file name extension."
    ),
    "evidence_image_too_large": N_(
        "The image %(name)s is too large to show (more than 50 megapixels). Please send a "
        "smaller copy."
    ),
    "evidence_image_unreadable": N_(
        "The image %(name)s is damaged: its size cannot be read. Please send it again."
    ),
    "evidence_too_many": N_("At most 10 files can be uploaded at once."),
    "identifier_invalid": N_("Please enter a mainland mobile number or an email address."),
    "identifier_taken": N_("An account with this mobile number or email already exists."),
    "password_too_short": N_("The password must have at least 8 characters."),
    "sign_in_failed": N_("The account or password is not correct."),
    "sign_in_locked": N_(
        "Too many failed attempts. For your safety, please try again in %(minutes)s minutes."
    ),
    "csrf_failed": N_("This form has expired. Please go back, reload the page and try again."),
    "case_not_found": N_("No such case, or you have no access to it."),
    "evidence_not_found": N_("No such file, or you have no access to it."),
    "invitation_not_found": N_("This invitation link is not valid."),
    "invitation_expired": N_("This invitation has expired."),
    "invitation_already_answered": N_("This invitation has already been answered."),
    "claim_not_found": N_("This link to claim a case is not valid."),
    "case_already_claimed": N_(
        "This case has already been claimed by another account, so it cannot be claimed again. "
        "If it is yours, sign in with the account that claimed it."
    ),
    "case_already_claimed_by_you": N_("You have already claimed this case: it is in your account."),
    "claim_only_by_a_party": N_(
        "Only the applicant can claim a case, with a disputant's account. Staff accounts "
        "cannot claim one: sign out first."
    ),
    "claim_by_the_other_party": N_(
        "Your account is already the other party to this case, so it cannot claim the "
        "applicant's side."
    ),
    "case_changed_meanwhile": N_("The case changed meanwhile. Please reload and try again."),
    "refusal_reason_required": N_("Please tell us briefly why you do not wish to mediate."),
    "not_found": N_("The page you asked for does not exist."),
    "forbidden": N_("You do not have permission to do this."),
    "invalid_json": N_("The request body must be a JSON object."),
    "bad_text": N_(
        "The text contains characters that cannot be stored: control characters or invalid "
        "Unicode (such as a lone surrogate). Please remove them and try again."
    ),
    "number_too_large": N_("A number in the request has too many digits."),
    "json_too_deep": N_("The request is nested too deeply."),
    "invalid_field_type": N_(
        "Each field must have the type the API description gives: text, or true or false "
        "for the consents and the arbitration clause."
    ),
    "evidence_not_base64": N_("The content of an evidence file is not valid base64."),
    "unknown_field": N_("The request has a field the API description does not list."),
    "invalid_evidence": N_(
        "Evidence must be a list of objects, each with a file name and its content in base64."
    ),
    "idempotency_key_required": N_("An Idempotency-Key header is required."),
    "idempotency_key_invalid": N_(
        "The Idempotency-Key must be 1 to 255 visible ASCII characters, with no space at "
        "either end."
    ),
    "idempotency_key_reused": N_(
        "This Idempotency-Key was already used with a different request body."
    ),
    "unauthorised": N_("A valid API key is required."),
    "request_too_large": N_("The request is too large."),
    "upload_too_large": N_(
        "The files are too large: each file may be at most %(file_mb)s MB, and at most "
        "%(files)s files at a time. Nothing was saved; please choose smaller files."
    ),
    "invalid_input": N_("Some fields are not valid."),
    "choice_window_closed": N_("The time for choosing a mediator together has passed."),
    "mediator_not_on_roster": N_("That mediator is not on this organisation's roster."),
    "mediator_conflicted": N_(
        "That mediator cannot take this case: a possible conflict of interest."
    ),
    "disclosure_required": N_("Please answer the disclosure question first."),
    "disclosure_statement_required": N_("Please describe the relationship you disclose."),
    "decline_reason_required": N_("Declining needs a reason."),
    "change_reason_required": N_("Please say why you want a different mediator."),
    "override_reason_required": N_("An override needs a reason; it is recorded."),
    "no_open_deadline": N_("There is no running time limit to change."),
    "extension_consent_required": N_("An extension needs the consent of all parties."),
    "extension_days_invalid": N_("An extension is between 1 and 365 days."),
    "extension_reason_required": N_("Please give the reason for the extension."),
    "pause_reason_required": N_("Please give the reason for the pause."),
    "deadline_already_paused": N_("The time limit is already paused."),
    "deadline_not_paused": N_("The time limit is not paused."),
    "pause_end_before_start": N_("A pause cannot end before it starts."),
    "date_invalid": N_("Please enter a valid date (and time, where asked)."),
    "capacity_invalid": N_("Capacity is a whole number from 0 to 500."),
    "case_not_in_mediation": N_("This case is not in mediation."),
    "session_in_past": N_("The session must start later than now."),
    "session_too_far": N_("A session can be scheduled at most 180 days ahead."),
    "session_duration_invalid": N_("A session lasts from 15 to 480 minutes."),
    "reschedule_reason_required": N_("Please give the reason for moving the session."),
    "session_not_scheduled": N_("This session is no longer scheduled."),
    "session_not_started": N_("The session has not started yet."),
    # The mediation agreement: drafting, putting up for signature, signing
    "agreement_invalid": N_("Please correct the marked fields."),
    "agreement_not_found": N_("No such version of the agreement."),
    "agreement_no_organisation": N_("The case has no mediation organisation to seal it."),
    "agreement_parties_missing": N_("An agreement needs an applicant and a respondent."),
    "agreement_terms_required": N_("Write at least one term the parties agreed."),
    "agreement_too_many_terms": N_("An agreement has at most 30 terms."),
    "agreement_obligor_required": N_("Choose who must perform this term."),
    "agreement_manner_required": N_("Say how it is performed (e.g. bank transfer)."),
    "agreement_due_date_required": N_("Give the date by which it must be performed."),
    "agreement_due_date_past": N_(
        "The time limit has already passed. Choose today or a later date (a new version)."
    ),
    "agreement_due_date_too_far": N_("The time limit is more than ten years away."),
    "agreement_changed_meanwhile": N_("The agreement changed meanwhile. Please reload."),
    "agreement_superseded": N_(
        "A later version replaced this one. Please read and sign the current version."
    ),
    "agreement_withdrawn": N_(
        "This version was withdrawn when the case left mediation. It can no longer be signed."
    ),
    "agreement_already_effective": N_("This agreement is already in effect."),
    "agreement_already_frozen": N_("This version is already open for signature."),
    "agreement_not_for_signature": N_("This version is a draft and cannot be signed yet."),
    "agreement_not_a_signer": N_("Only the parties and the mediator of the case sign it."),
    "agreement_already_signed": N_("This version has already been signed for your side."),
    "agreement_text_changed": N_(
        "The text changed since you opened it. Please read the current version again."
    ),
    "signing_password_wrong": N_("The password is not correct. Nothing was signed."),
    "signing_locked": N_(
        "Too many wrong passwords. For your safety, try again in %(minutes)s minutes "
        "or sign with an SMS code."
    ),
    "signing_code_no_mobile": N_(
        "Your account has no mobile number for a code. Please sign with your password."
    ),
    "signing_code_too_soon": N_("A code was just sent. You can ask again in %(seconds)s seconds."),
    "signing_code_too_many": N_("Too many codes were sent in the last hour. Please try later."),
    "signing_code_missing": N_("Please ask for a code first."),
    "signing_code_expired": N_("The code has expired (codes are valid for 10 minutes)."),
    "signing_code_wrong": N_(
        "The code is not correct. Nothing was signed. %(left)s tries left for this code."
    ),
    "signing_code_exhausted": N_("Too many wrong tries for this code. Please ask for a new one."),
    # District governance's early warnings (cases.warnings)
    "alert_not_found": N_("No such alert."),
    "alert_state_changed": N_(
        "Someone else changed this alert meanwhile, or it cannot move that way. "
        "The page shows it as it is now."
    ),
    "alert_partner_not_subscribed": N_(
        "%(partner)s has no active endpoint subscribed to early warnings, so nothing was sent."
    ),
    "letter_not_found": N_("No such letter."),
    "letter_already_issued": N_("This letter has been issued and can no longer be changed."),
    "unknown": N_("Please choose one of the options."),
    "invalid": N_("This is not valid."),
    # The signed agreement's PDF and its public check
    "signed_pdf_version_not_found": N_("No such agreement version."),
    "signed_pdf_not_effective": N_("This agreement version has not taken effect."),
    "agreement_pdf_not_found": N_("The signed agreement is not available (yet)."),
    "verification_not_found": N_(
        "No effective agreement has this check address. Please check the link or QR code."
    ),
    "presented_too_large": N_("The file is larger than %(mb)s MB, so it cannot be the signed PDF."),
    "presented_unreadable": N_("The upload could not be read. Please choose the file again."),
    "presented_empty": N_("The file is empty."),
    "presented_nothing": N_("Please choose a PDF file or paste its SHA-256."),
    "sha256_invalid": N_("A SHA-256 is 64 characters, digits 0-9 and letters a-f."),
    # Performance of an effective agreement
    "performance_item_not_found": N_("No such term to perform."),
    "performance_note_too_long": N_("The note is too long (at most 1000 characters)."),
    "performance_dispute_note_required": N_("Please say what was not done."),
    "performance_parties_only": N_("Only the parties mark or answer the performance of a term."),
    "performance_obligor_only": N_("Only the side that owes this term can mark it performed."),
    "performance_other_side_only": N_(
        "Only the other side can confirm or dispute the performance of this term."
    ),
    "performance_changed_meanwhile": N_(
        "This term changed meanwhile (it may already be marked or answered). Please reload."
    ),
    # Ending mediation and the court handoff
    "form_has_errors": N_("Please correct the marked fields."),
    "precheck_blocked": N_("The pre-check found something that would stop the court."),
    "mediation_not_in_progress": N_("This case is not in mediation, so it cannot be ended."),
    "transfer_not_possible": N_(
        "A case can be sent to the court only after mediation failed or reached its time limit."
    ),
    "confirmation_not_possible": N_(
        "Judicial confirmation can be applied for only while an agreement in effect awaits it."
    ),
    "already_applied": N_("You have already applied. The other party must apply too."),
    "nothing_to_correct": N_("The court has not returned anything in this case for correction."),
    "not_a_dead_letter": N_(
        "This delivery is not waiting for a replay (it may have been replayed)."
    ),
    # merchants answer first (cases.negotiation)
    "negotiation_not_your_move": N_("This is not yours to do in this negotiation."),
    "negotiation_closed": N_("This negotiation has ended; nothing was changed."),
    "negotiation_deadline_passed": N_(
        "The merchant's time to answer has passed: the case goes on to a mediator."
    ),
    "negotiation_no_open_proposal": N_("There is no proposal waiting for an answer."),
    "negotiation_proposal_changed": N_(
        "The merchant changed its proposal meanwhile. Please read the new one."
    ),
    "remedy_invalid": N_("Please correct the proposal."),
    "text_invalid": N_("Please correct the text."),
    "remedy_kind_invalid": N_("Please choose a kind of remedy."),
    "remedy_amount_invalid": N_(
        "Please enter an amount in yuan greater than zero, with at most two decimal places."
    ),
    "remedy_amount_required": N_("A refund or compensation needs its amount."),
    "remedy_conditions_required": N_("Say what will be exchanged or repaired, and how."),
    "remedy_date_invalid": N_("Please enter a date, such as 2026-11-20."),
    "remedy_date_out_of_range": N_(
        "The date to perform must be from today to at most 90 days from today."
    ),
    "text_required": N_("Please write something here."),
    "text_too_long": N_("This is too long."),
    "answer_days_out_of_range": N_(
        "The time to answer must be within the platform's limits shown beside the field."
    ),
    "merchant_name_invalid": N_("Please enter the merchant's registered name."),
    "merchant_already_enrolled": N_("A merchant with this credit code has already enrolled."),
    "enrolment_invalid": N_("Please correct the enrolment request."),
    "enrolment_no_such_move": N_("This merchant's enrolment cannot be changed that way."),
    "enrolment_platform_admin_only": N_("Only a platform administrator confirms merchants."),
    "merchant_not_found": N_("No such merchant."),
    "merchant_changed_meanwhile": N_("The merchant's enrolment changed meanwhile."),
    "merchants_only": N_("This page is for merchants' handlers."),
    "thread_not_found": N_("No such question."),
    "no_settlement": N_("This case has no settlement by negotiation."),
    "settlement_not_reopenable": N_(
        "The remedy is not overdue or disputed, so the dispute cannot be re-opened yet."
    ),
    "partner_not_active": N_("This partner platform is not active."),
    "handler_must_be_a_merchant_account": N_("A handler must be a merchant's account."),
    # the partner API v1 (cases.partners): lists, batches, the order snapshot, attachments
    "status_invalid": N_("The status filter names a status the API description does not list."),
    "updated_since_invalid": N_(
        "updated_since must be an ISO 8601 date and time with its offset, such as "
        "2026-12-03T08:00:00+08:00."
    ),
    "cursor_invalid": N_("The cursor is not one this API gave out. Start again without it."),
    "limit_invalid": N_("limit must be a whole number from 1 to 200."),
    "batch_invalid": N_(
        "A batch is an object whose items are a list of 1 to 500 objects, each with an "
        "idempotency_key and a dispute."
    ),
    "count_invalid": N_("This must be a whole number within the limits the API gives."),
    "amount_invalid": N_(
        "Please give an amount in yuan as text, such as 3680.00, with at most two decimals."
    ),
    "time_invalid": N_(
        "Please give an ISO 8601 date and time with its offset, such as 2026-12-03T08:00:00+08:00."
    ),
    "currency_invalid": N_("Only CNY is accepted."),
    "too_many": N_("This list has more entries than the API allows."),
    "order_too_large": N_("The order is too large (at most 256 KB as JSON)."),
    "filename_required": N_(
        "Name the file with the filename query parameter (1 to 200 characters)."
    ),
    "rate_limited": N_("Too many requests for this API key. Please wait and try again."),
    "no_order_snapshot": N_("This dispute was filed without an order."),
    "state_invalid": N_("The state filter names a state the API description does not list."),
    # Partners' webhook endpoints (cases.webhooks)
    "webhook_url_invalid": N_(
        "Please enter an https address of your own system (no user name, password or #part)."
    ),
    "webhook_events_required": N_("Please choose at least one event."),
    "webhook_event_unknown": N_("One of the events chosen does not exist."),
    "webhook_rotated_meanwhile": N_(
        "The secret was rotated by someone else meanwhile: use the one they were shown."
    ),
}
