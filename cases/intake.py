"""Intake, shared by the web form, the partner API and the demo data: check everything, store
evidence, file; and the signed tokens a filing hands out (the respondent's invitation link,
the files kept across a refused form).

Every check runs before anything is written, so an invalid filing changes nothing.

One dispute, one number (`cases.duplicates`): every filing, from any channel, takes the lock
of its applicant-and-respondent pair and looks for an open case of the same dispute. What
happens on a match is the channel's choice (`OnMatch`): a partner's filing is merged into
the case; a person at the web form is first told ("you already have CNM-...") and then
adds it to that case or files anyway, which staff see as a link.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from cases.actions import (
    Filer,
    NewCase,
    Repeated,
    StoredEvidence,
    distinct_evidence,
    do_file_case,
    do_file_cases,
)
from cases.duplicates.actions import (
    Found,
    Received,
    do_link_possible_duplicate,
    do_merge_filing,
    do_record_source,
    do_record_sources,
    find_open_match,
    find_open_matches,
    key_of,
    lock_dispute,
    lock_disputes,
)
from cases.errors import CaseError
from cases.evidence_files import (
    MAX_EVIDENCE_FILES,
    check_evidence_file,
    safe_filename,
)
from cases.evidence_store import store_blob
from cases.filing import Filing, check_filing
from cases.models import Case, Invitation, Party
from cases.pause import pause_point
from cases.settings import Settings
from cases.transactions import atomic
from realtime.text import is_storable


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


class FilingInvalid(CaseError):
    status_code = 422

    def __init__(
        self,
        field_errors: dict[str, str],
        file_errors: list[tuple[str, str]],
        kept: Sequence[StoredEvidence] = (),
        repeated: Sequence[Repeated] = (),
    ) -> None:
        super().__init__("invalid_input")
        self.field_errors = field_errors
        self.file_errors = file_errors  # (code, file name)
        # Files that were fine, kept so the person does not have to attach them again.
        self.kept = list(kept)
        # Files attached again although their content was already kept: kept once.
        self.repeated = list(repeated)


class OnMatch(StrEnum):
    """What a channel does with a filing of a dispute that already has an open case."""

    # Add it to that case (its source, its evidence): no new case. A partner's filing; a
    # person's at the web form once they chose to, and only into a case they are the
    # applicant of.
    MERGE = "merge"
    # Tell the person first (PossibleDuplicate, nothing filed) when the case is theirs.
    ASK = "ask"
    # The person was told and files anyway: a new case, linked to the other for staff.
    FILE_ANYWAY = "file_anyway"
    # A new case, linked for staff, nobody asked (the demo data; tests that file alike).
    LINK = "link"


class PossibleDuplicate(CaseError):
    """The filer already has an open case of this dispute: nothing was filed (but the good
    files were kept, as for a refused form)."""

    status_code = 409

    def __init__(
        self, found: Found, kept: Sequence[StoredEvidence], repeated: Sequence[Repeated]
    ) -> None:
        super().__init__("possible_duplicate")
        self.number = found.case.number
        self.respondent_name = found.respondent_name
        self.reason = str(found.match.reason)
        self.kept = list(kept)
        self.repeated = list(repeated)


@dataclass(frozen=True)
class Filed:
    case: Case
    repeated: list[Repeated]  # attached twice (same content), filed once
    # The filing was added to this open case of the same dispute instead of opening one.
    merged: bool = False
    # A new case that may repeat this open one (the number), linked for staff.
    possible_duplicate_of: str | None = None


def check_uploads(
    uploads: Sequence[Upload],
) -> tuple[list[tuple[Upload, str]], list[tuple[str, str]]]:
    """Uploads with their sniffed media type, and (code, name) for each rejected one."""
    if len(uploads) > MAX_EVIDENCE_FILES:
        return [], [("evidence_too_many", "")]
    accepted: list[tuple[Upload, str]] = []
    errors: list[tuple[str, str]] = []
    for upload in uploads:
        name = safe_filename(upload.filename)
        result = check_evidence_file(
            name, upload.data[:8192], len(upload.data), content=upload.data
        )
        if not is_storable(upload.filename):
            errors.append(("bad_text", name))  # refused, not silently renamed
        elif result.error or result.media_type is None:
            errors.append((result.error or "evidence_type_not_allowed", name))
        else:
            accepted.append((Upload(name, upload.data), result.media_type))
    return accepted, errors


def store_uploads(
    settings: Settings, accepted: Sequence[tuple[Upload, str]]
) -> list[StoredEvidence]:
    return [
        StoredEvidence(
            filename=upload.filename,
            media_type=media_type,
            size=len(upload.data),
            sha256=store_blob(settings.evidence_dir, upload.data),
        )
        for upload, media_type in accepted
    ]


def _signed(settings: Settings, salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key, salt=salt)


def _read_pair(
    settings: Settings, salt: str, token: str, types: tuple[type, type]
) -> tuple[Any, Any] | None:
    """The two values a link's token signed under `salt`, if it is ours and they are of
    `types` (a bool is no int here)."""
    try:
        value = _signed(settings, salt).loads(token)
    except BadSignature:
        return None
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(
            isinstance(v, t) and not isinstance(v, bool) for v, t in zip(value, types, strict=True)
        )
    ):
        return value[0], value[1]
    return None


INVITATION_SALT = "respondent-invitation"
CLAIM_SALT = "applicant-claim"


def invitation_token(settings: Settings, invitation: Invitation) -> str:
    # The expiry lives in the row (and is checked there), so the token itself never needs
    # re-issuing when a deadline is extended; the nonce makes it unguessable and revocable.
    return str(_signed(settings, INVITATION_SALT).dumps([invitation.id, invitation.nonce]))


def read_invitation_token(settings: Settings, token: str) -> tuple[int, str] | None:
    return _read_pair(settings, INVITATION_SALT, token, (int, str))


def invitation_url(settings: Settings, invitation: Invitation) -> str:
    return f"{settings.base_url}/invitations/{invitation_token(settings, invitation)}"


def claim_token(settings: Settings, applicant: Party) -> str:
    # Good for one claim: it names the applicant's row, which is claimed only while no
    # account holds it (cases.actions.do_claim_case).
    return str(_signed(settings, CLAIM_SALT).dumps([applicant.id, applicant.case_id]))


def read_claim_token(settings: Settings, token: str) -> tuple[int, int] | None:
    return _read_pair(settings, CLAIM_SALT, token, (int, int))


def claim_url(settings: Settings, applicant: Party) -> str:
    return f"{settings.base_url}/claims/{claim_token(settings, applicant)}"


def kept_token(settings: Settings, kept: Sequence[StoredEvidence]) -> str:
    """Signed, so a form can only bring back files this platform itself stored for it."""
    return str(
        _signed(settings, "kept-evidence").dumps(
            [[k.filename, k.media_type, k.size, k.sha256] for k in kept]
        )
    )


def read_kept(settings: Settings, token: str | None) -> list[StoredEvidence]:
    if not token:
        return []
    try:
        items = _signed(settings, "kept-evidence").loads(token)
    except BadSignature:
        return []
    return [StoredEvidence(str(n), str(t), int(z), str(h)) for n, t, z, h in items]


def repeated_token(settings: Settings, repeated: Sequence[Repeated]) -> str:
    """Signed, for the page after a redirect: only the platform can say what was repeated."""
    return str(
        _signed(settings, "repeated-evidence").dumps([[r.filename, r.kept_as] for r in repeated])
    )


def read_repeated(settings: Settings, token: str | None) -> list[Repeated]:
    if not token:
        return []
    try:
        items = _signed(settings, "repeated-evidence").loads(token)
    except BadSignature:
        return []
    if not isinstance(items, list):
        return []
    return [
        Repeated(str(item[0]), str(item[1]))
        for item in items[:MAX_EVIDENCE_FILES]
        if isinstance(item, list) and len(item) == 2
    ]


async def file_dispute(
    settings: Settings,
    fields: Mapping[str, str],
    uploads: Sequence[Upload],
    filer: Filer,
    now: datetime,
    kept: Sequence[StoredEvidence] = (),
    *,
    keep_good_files: bool = True,
    on_match: OnMatch | None = None,
) -> Case:
    """File a dispute (see `file_dispute_reporting`); for callers that need only the case
    (for a merged filing: the case it was merged into)."""
    filed = await file_dispute_reporting(
        settings,
        fields,
        uploads,
        filer,
        now,
        kept,
        keep_good_files=keep_good_files,
        on_match=on_match,
    )
    return filed.case


async def file_dispute_reporting(
    settings: Settings,
    fields: Mapping[str, str],
    uploads: Sequence[Upload],
    filer: Filer,
    now: datetime,
    kept: Sequence[StoredEvidence] = (),
    *,
    keep_good_files: bool = True,
    on_match: OnMatch | None = None,
    idempotency_key: str | None = None,
    merge_into: str | None = None,
) -> Filed:
    """File a dispute, or raise FilingInvalid having written nothing but, for a person at a
    form (`keep_good_files`), the blobs of the files that were fine. One content is one
    evidence item: a file attached again with the same content as a kept one (or twice in
    one go) is filed once and reported as repeated.

    A filing of a dispute with an open case is handled as `on_match` says (by default a
    partner's is merged, anyone else's linked); the source of every filing is recorded
    with the partner's `idempotency_key`. May raise PossibleDuplicate (OnMatch.ASK). A
    person told of a case chooses to add the filing to it: OnMatch.MERGE with `merge_into`
    its number (merged only if it still is an open case of theirs of this dispute)."""
    if on_match is None:
        on_match = OnMatch.MERGE if filer.partner_id else OnMatch.LINK
    filing, field_errors = check_filing(fields)
    accepted, file_errors = check_uploads(uploads)
    # Each content counts once: a kept file picked again is not one more file.
    contents = {k.sha256 for k in kept} | {
        hashlib.sha256(upload.data).hexdigest() for upload, _ in accepted
    }
    if len(contents) > MAX_EVIDENCE_FILES and not file_errors:
        file_errors = [("evidence_too_many", "")]
    if filing is None or file_errors:
        # Good files are stored (content-addressed, referenced by nothing yet) and handed
        # back, so a mistake in one field never costs a person their attachments.
        too_many = ("evidence_too_many", "") in file_errors
        good = accepted if keep_good_files and not too_many else []
        held, repeated = distinct_evidence([*kept, *store_uploads(settings, good)])
        raise FilingInvalid(field_errors, file_errors, held, repeated)
    if on_match is OnMatch.ASK:
        # Read without the lock: this only decides whether to ask; the filing itself
        # (after the answer) looks again under the lock.
        seen = await find_open_match(filing, filer, now)
        if seen is not None and seen.visible_to_filer:
            good = accepted if keep_good_files else []
            held, repeated = distinct_evidence([*kept, *store_uploads(settings, good)])
            raise PossibleDuplicate(seen, held, repeated)
    stored, repeated = distinct_evidence([*kept, *store_uploads(settings, accepted)])
    received = Received(filer, now, idempotency_key)
    async with atomic():
        # The first write of the transaction (SQLite's write lock, PostgreSQL's row lock):
        # of two filings of one pair at once, the second waits here and finds the first's.
        await lock_dispute(key_of(filing), now)
        found = None
        if on_match is OnMatch.MERGE and merge_into is not None:
            found = await find_open_match(filing, filer, now, only=merge_into)
        found = found or await find_open_match(filing, filer, now)
        await pause_point("dispute_lock")
        # A person is merged only into a case of their own; a partner names the applicant
        # by their ID number and files for them.
        mergeable = found is not None and (filer.partner_id is not None or found.visible_to_filer)
        if (
            found is not None
            and filer.partner_reference is not None
            and (found.case.partner_id, found.case.partner_reference)
            == (filer.partner_id, filer.partner_reference)
        ):
            # The partner sent the case it filed again under a new key: not another source
            # of the dispute but a retry, which its (partner, reference) index turns into a
            # replay of the case (mediation.partners).
            mergeable = False
        if found is not None and on_match is OnMatch.MERGE and mergeable:
            merged = await do_merge_filing(found, filing, received, stored)
            if merged is not None:
                return Filed(merged.case, [*repeated, *merged.repeated], merged=True)
        case = await do_file_case(
            filing,
            filer,
            stored,
            now=now,
            reply_days=settings.respondent_reply_days,
            invitation_link=lambda invitation: invitation_url(settings, invitation),
            claim_link=lambda applicant: claim_url(settings, applicant),
        )
        await do_record_source(case, received, filing.order_number)
        if found is not None:
            told = on_match is OnMatch.FILE_ANYWAY and found.visible_to_filer
            await do_link_possible_duplicate(case, found, applicant_told=told, now=now)
    return Filed(case, repeated, possible_duplicate_of=found.case.number if found else None)


async def file_disputes_together(
    settings: Settings, filings: Sequence[tuple[Filing, Received]], now: datetime
) -> list[Case | None]:
    """File a partner's checked filings (no files to store) together, inside the caller's
    transaction: one statement per table for the batch (`cases.actions.do_file_cases`).

    The same rule as one filing: each pair's lock is held (all of them, in one order), and a
    filing that repeats an open case, or another filing of the batch, is not filed here but
    answered None: its caller files it alone (`file_dispute_reporting`), where a repeat is
    merged into its case."""
    keys = [key_of(filing) for filing, _ in filings]
    await lock_disputes(keys, now)
    found = await find_open_matches([filing for filing, _ in filings], Filer(), now)
    fresh: list[int] = []
    pairs: set[str] = set()
    for index, key in enumerate(keys):
        if found[index] is None and key.digest() not in pairs:
            fresh.append(index)
            pairs.add(key.digest())
    cases = await do_file_cases(
        [NewCase(filings[i][0], filings[i][1].filer) for i in fresh],
        now=now,
        reply_days=settings.respondent_reply_days,
        invitation_link=lambda invitation: invitation_url(settings, invitation),
        claim_link=lambda applicant: claim_url(settings, applicant),
    )
    await do_record_sources(
        [
            (case, filings[i][1], filings[i][0].order_number)
            for i, case in zip(fresh, cases, strict=True)
        ]
    )
    filed: list[Case | None] = [None] * len(filings)
    for index, case in zip(fresh, cases, strict=True):
        filed[index] = case
    return filed
