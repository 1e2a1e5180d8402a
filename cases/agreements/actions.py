"""The mediation agreement on the platform: drafting in versions, putting a version up for
signature, signing after re-confirming identity, and the effect of the last signature.

These actions are the only writers of AgreementVersion, AgreementSignature and SigningCode,
and they create the PerformanceItem rows when an agreement takes effect. The rules (what a
draft must contain, its text, who must still sign, the attestations) are the pure core in
`cases.agreements.rules`. Every write locks the case row first (`lock_case`), so two signers,
or a signer and a mediator saving a new version, are serialised: the last of several
simultaneous signatures sees the others and the agreement takes effect exactly once.

Each transaction registers its after-commit effects (`on_commit`): the new or changed version
is announced in the case's session room, and an agreement that took effect gets its signed
PDF from the renderer the shell passes in (`mediation.agreement_pdf`, whose own sweep catches
up if the process dies in between or no renderer was passed).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, Protocol

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from cases.access import CaseFacts, handles_case, viewer_of
from cases.accounts.actions import check_password
from cases.accounts.models import LoginFailure, Organisation, User
from cases.actions import access_case
from cases.agreements import rules
from cases.agreements.models import (
    AgreementSignature,
    AgreementStatus,
    AgreementVersion,
    SignatureMethod,
    SigningCode,
)
from cases.clock import local_date, say_time
from cases.errors import CaseConflict, CaseError, CaseNotFound
from cases.identity import mask_mobile
from cases.journal import notify_parties, queue_notice, record_event, transition
from cases.models import Case, NoticeChannel, Party
from cases.pause import pause_point
from cases.performance.models import PerformanceItem
from cases.sessions.models import MediationSession, SessionStatus
from cases.settings import Settings
from cases.status import Actor, Status
from cases.timeline import EventKind
from cases.transactions import atomic, locked_case, on_commit
from realtime.models import RoomMessage
from realtime.protocol import JOINT, Kind

log = logging.getLogger("cases.agreements")

CODE_LIFETIME = timedelta(minutes=10)
CODE_ATTEMPTS = 5
CODE_RESEND_AFTER = timedelta(seconds=60)
CODES_PER_HOUR = 5
PASSWORD_WINDOW = timedelta(minutes=15)


class AgreementError(CaseError):
    """Refused input (a wrong password or code, an invalid draft): shown on the page."""

    status_code = 422


class AgreementInvalid(AgreementError):
    def __init__(self, field_errors: dict[str, str]) -> None:
        super().__init__("agreement_invalid")
        self.field_errors = field_errors


class AgreementForbidden(CaseError):
    """The viewer may see the case but not do this (e.g. a party drafting)."""

    status_code = 403


class TooManyAttempts(AgreementError):
    status_code = 429


class Announcer(Protocol):
    """What the actions need of the live hub (realtime.hub.Hub)."""

    async def announce(self, session_id: int, kind: Any, body: dict[str, Any]) -> Any: ...


# Renders, stores and records the signed PDF of an effective version, given its id. Rendering
# is presentation, so the shell supplies it (mediation.agreement_pdf.issue_signed_pdf bound to
# its settings); a version signed without one gets its PDF from the shell's sweep job.
IssuePdf = Callable[[int], Awaitable[object]]


# --- access ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgreementAccess:
    """A case the viewer may see, and what the viewer is to its agreement."""

    user_id: int
    case: Case
    facts: CaseFacts
    handles: bool  # staff handling the case (its mediator, its organisation's admins, ...)
    is_mediator: bool  # the case's mediator: drafts, puts up for signature, signs
    side: str | None  # the viewer's side, if a party

    @property
    def signer_role(self) -> str | None:
        """The role in which the viewer signs, if they sign at all."""
        return rules.signer_role(self.user_id, self.case.mediator_id, self.side)


async def access_agreement(user: User, number: str) -> AgreementAccess:
    """The case's agreement as this user may see it; CaseNotFound (404) for anyone who may
    not see the case: its mediator, its parties and the staff handling it may."""
    viewer = viewer_of(user)
    case, facts = await access_case(viewer, number)
    side = (
        await Party.filter(case=case, user_id=user.id)
        .order_by("id")
        .first()
        .values_list("side", flat=True)
    )
    return AgreementAccess(
        user_id=user.id,
        case=case,
        facts=facts,
        handles=handles_case(viewer, facts),
        is_mediator=case.mediator_id is not None and case.mediator_id == user.id,
        side=str(side) if side else None,
    )


async def versions_of(case: Case) -> list[AgreementVersion]:
    return list(await AgreementVersion.filter(case=case).order_by("number"))


async def access_version(access: AgreementAccess, number: int) -> AgreementVersion:
    version = await AgreementVersion.get_or_none(case=access.case, number=number)
    if version is None:
        raise CaseNotFound("agreement_not_found")
    return version


async def signatures_of(version: AgreementVersion) -> list[AgreementSignature]:
    return list(await AgreementSignature.filter(version=version).order_by("signed_at", "id"))


async def party_rows(case: Case) -> list[dict[str, str]]:
    """The parties as the agreement names them (from the case, never from a form)."""
    return [
        {
            "side": str(p.side),
            "name": p.name,
            "kind": str(p.kind),
            "id_number": p.id_number or "",
            "service_address": p.service_address or "",
        }
        for p in await Party.filter(case=case).order_by("side", "id")
    ]


async def accepted_offer(case: Case) -> rules.AcceptedTerms | None:
    """The offer (or counter-offer) last accepted in a joint room of the case's sessions.
    Offers in a caucus are between one party and the mediator: they bind nobody."""
    session_ids = list(await MediationSession.filter(case=case).values_list("id", flat=True))
    accepts = [
        row
        for row in await RoomMessage.filter(
            session_id__in=session_ids, room=JOINT, kind=Kind.OFFER_RESPONSE.value
        ).order_by("-created_at", "-id")
        if row.body.get("response") == "accept"
    ]
    for accept in accepts:
        offer = await RoomMessage.get_or_none(
            session_id=accept.session_id, room=JOINT, seq=accept.body.get("offer_seq")
        )
        if offer is None or not offer.body.get("amount"):
            continue
        return rules.AcceptedTerms(
            amount=str(offer.body["amount"]),
            conditions=str(offer.body.get("text") or ""),
            offered_by=offer.sender_side,
            accepted_by=accept.sender_side,
        )
    return None


async def draft_to_edit(case: Case, today: date | None = None) -> dict[str, Any]:
    """What the editor starts from: the latest version, or a first draft from the case and
    the offer the parties accepted in the room."""
    latest = await AgreementVersion.filter(case=case).order_by("-number").first()
    if latest is not None:
        return dict(latest.content)
    return rules.prefill(
        await party_rows(case),
        case.facts,
        case.requested_outcome,
        await accepted_offer(case),
        today,
    )


def _require_mediator(access: AgreementAccess) -> None:
    if not access.is_mediator:
        raise AgreementForbidden("forbidden")
    if access.case.status != Status.IN_MEDIATION:
        raise CaseConflict("case_not_in_mediation")


# --- drafting ----------------------------------------------------------------------------------


async def do_save_draft(
    user: User,
    number: str,
    raw: dict[str, Any],
    now: datetime,
    settings: Settings,
    hub: Announcer | None = None,
) -> AgreementVersion:
    """A new version (n+1) from the editor; earlier drafts and versions out for signature are
    superseded (their signatures stay on record and count for nothing)."""
    access = await access_agreement(user, number)
    _require_mediator(access)
    case = access.case
    content, errors = rules.check_draft(raw, await party_rows(case), local_date(now))
    if content is None:
        raise AgreementInvalid(errors)
    organisation = await Organisation.get_or_none(id=case.organisation_id or 0)
    if organisation is None:
        raise CaseConflict("agreement_no_organisation")
    async with atomic():
        case = await locked_case(case.id)
        if case.status != Status.IN_MEDIATION or case.mediator_id != user.id:
            raise CaseConflict("case_changed_meanwhile")
        last = await AgreementVersion.filter(case=case).order_by("-number").first()
        version_number = (last.number if last else 0) + 1
        text = rules.render_text(
            content,
            track=str(organisation.track),
            organisation_name=organisation.name,
            case_number=case.number,
            version_number=version_number,
            mediator_name=user.display_name,
        )
        replaced = await AgreementVersion.filter(
            case=case, status__in=[AgreementStatus.DRAFT, AgreementStatus.SIGNING]
        ).values_list("number", flat=True)
        await AgreementVersion.filter(
            case=case, status__in=[AgreementStatus.DRAFT, AgreementStatus.SIGNING]
        ).update(status=AgreementStatus.SUPERSEDED)
        version = await AgreementVersion.create(
            case=case,
            number=version_number,
            template=str(organisation.track),
            status=AgreementStatus.DRAFT,
            content=content,
            text=text,
            sha256=rules.text_sha256(text),
            drafted_by=user,
            created_at=now,
        )
        await record_event(
            case,
            EventKind.AGREEMENT_DRAFTED,
            now,
            actor_id=user.id,
            version=version_number,
            sha256=version.sha256,
            superseded=sorted(int(str(n)) for n in replaced),
        )
        on_commit(partial(announce_version, hub, version.id))
    return version


async def do_put_up_for_signature(
    user: User,
    number: str,
    version_number: int,
    now: datetime,
    settings: Settings,
    hub: Announcer | None = None,
) -> AgreementVersion:
    """Freeze a draft: from now on its text does not change; the parties are told to sign."""
    access = await access_agreement(user, number)
    _require_mediator(access)
    version = await access_version(access, version_number)
    if version.status != AgreementStatus.DRAFT:
        raise CaseConflict(_status_code_of(version))
    if problems := rules.check_still_valid(version.content, local_date(now)):
        raise AgreementInvalid(problems)
    async with atomic():
        case = await locked_case(access.case.id)
        if case.status != Status.IN_MEDIATION:
            raise CaseConflict("case_not_in_mediation")
        changed = await AgreementVersion.filter(id=version.id, status=AgreementStatus.DRAFT).update(
            status=AgreementStatus.SIGNING, frozen_at=now
        )
        if not changed:
            raise CaseConflict("agreement_changed_meanwhile")
        await record_event(
            case,
            EventKind.AGREEMENT_FROZEN,
            now,
            actor_id=user.id,
            version=version.number,
            sha256=version.sha256,
        )
        link = f"{settings.base_url}/cases/{case.number}/agreement"
        await notify_parties(
            case,
            f"请签署调解协议 Please sign the mediation agreement: {case.number}",
            f"案件 {case.number} 的调解协议（第{version.number}版）已提交签署。请登录平台阅读全文，"
            f"经身份核验后签名：{link}\n"
            f"Case {case.number}: version {version.number} of the mediation agreement is "
            f"ready for signature. Read it in full and sign after confirming your identity: "
            f"{link}",
            now,
        )
        on_commit(partial(announce_version, hub, version.id))
    return await AgreementVersion.get(id=version.id)


def _status_code_of(version: AgreementVersion) -> str:
    return {
        AgreementStatus.SUPERSEDED: "agreement_superseded",
        AgreementStatus.WITHDRAWN: "agreement_withdrawn",
        AgreementStatus.EFFECTIVE: "agreement_already_effective",
        AgreementStatus.SIGNING: "agreement_already_frozen",
        AgreementStatus.DRAFT: "agreement_not_for_signature",
    }[AgreementStatus(version.status)]


# --- signing -----------------------------------------------------------------------------------


def _code_hash(settings: Settings, user_id: int, version_id: int, code: str) -> str:
    key = rules.derive_key(settings.secret_key, "signing-code")
    message = f"{user_id}|{version_id}|{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


async def _signable(
    user: User, number: str, version_number: int
) -> tuple[AgreementAccess, AgreementVersion, str]:
    access = await access_agreement(user, number)
    role = access.signer_role
    if role is None:
        raise AgreementForbidden("agreement_not_a_signer")
    version = await access_version(access, version_number)
    if version.status != AgreementStatus.SIGNING:
        raise CaseConflict(_status_code_of(version))
    if access.case.status != Status.IN_MEDIATION:
        raise CaseConflict("case_not_in_mediation")
    if await AgreementSignature.exists(version=version, role=role):
        raise CaseConflict("agreement_already_signed")
    return access, version, role


async def do_send_signing_code(
    user: User, number: str, version_number: int, now: datetime, settings: Settings
) -> SigningCode:
    """A 6-digit one-time code by SMS to the signer's registered mobile, valid for 10 minutes;
    stored only as a keyed hash. At most one a minute and five an hour per version."""
    access, version, _ = await _signable(user, number, version_number)
    if not user.mobile:
        raise AgreementError("signing_code_no_mobile")
    recent = [
        row.created_at
        for row in await SigningCode.filter(
            user=user, version=version, created_at__gt=now - timedelta(hours=1)
        ).order_by("-created_at")
    ]
    if recent and recent[0] > now - CODE_RESEND_AFTER:
        wait = CODE_RESEND_AFTER - (now - recent[0])
        raise TooManyAttempts("signing_code_too_soon", seconds=max(1, int(wait.total_seconds())))
    if len(recent) >= CODES_PER_HOUR:
        raise TooManyAttempts("signing_code_too_many")
    code = f"{secrets.randbelow(10**6):06d}"
    async with atomic():
        row = await SigningCode.create(
            user=user,
            version=version,
            code_hash=_code_hash(settings, user.id, version.id, code),
            expires_at=now + CODE_LIFETIME,
            created_at=now,
        )
        await queue_notice(
            access.case,
            NoticeChannel.SMS,
            user.mobile,
            f"签署验证码 Signing code: {access.case.number}",
            f"【长宁在线调解】您正在签署案件{access.case.number}的调解协议（第{version.number}版），"
            f"验证码：{code}，10分钟内有效。如非本人操作，请勿告知他人。"
            f" Your code to sign the agreement of case {access.case.number}: {code} "
            f"(valid for 10 minutes).",
            now,
        )
    return row


async def _check_password(user: User, password: str, now: datetime, settings: Settings) -> None:
    key = f"signing:{user.id}"
    since = now - PASSWORD_WINDOW
    if (
        await LoginFailure.filter(identifier=key, at__gt=since).count()
        >= settings.max_login_failures
    ):
        raise TooManyAttempts("signing_locked", minutes=int(PASSWORD_WINDOW.total_seconds() // 60))
    if not check_password(user.password_hash, password):
        await LoginFailure.create(identifier=key, remote_addr="", at=now)
        raise AgreementError("signing_password_wrong")
    await LoginFailure.filter(identifier=key).delete()


async def _check_code(
    user: User, version: AgreementVersion, code: str, now: datetime, settings: Settings
) -> SigningCode:
    """The latest code sent to this signer for this version, if `code` is it. A wrong try
    counts (committed at once, whatever happens next); the fifth ends the code."""
    row = (
        await SigningCode.filter(user=user, version=version, used_at__isnull=True)
        .order_by("-created_at", "-id")
        .first()
    )
    if row is None:
        raise AgreementError("signing_code_missing")
    if row.expires_at <= now:
        raise AgreementError("signing_code_expired")
    counted = await SigningCode.filter(
        id=row.id, used_at__isnull=True, attempts__lt=CODE_ATTEMPTS
    ).update(attempts=F("attempts") + 1)
    if not counted:
        raise TooManyAttempts("signing_code_exhausted")
    expected = _code_hash(settings, user.id, version.id, code.strip())
    if not hmac.compare_digest(expected, row.code_hash):
        left = CODE_ATTEMPTS - row.attempts - 1
        if left <= 0:
            raise TooManyAttempts("signing_code_exhausted")
        raise AgreementError("signing_code_wrong", left=left)
    return row


@dataclass(frozen=True)
class Signed:
    version: AgreementVersion
    signature: AgreementSignature
    effective: bool


async def do_sign(
    user: User,
    number: str,
    version_number: int,
    *,
    sha256: str,
    method: SignatureMethod,
    secret: str,
    now: datetime,
    settings: Settings,
    hub: Announcer | None = None,
    issue_pdf: IssuePdf | None = None,
) -> Signed:
    """Sign a version put up for signature, after re-confirming identity by the account's
    password or an SMS code. `sha256` is the hash of the text the signer read: if the
    version changed meanwhile, nothing is signed. The last required signature makes the
    agreement effective in the same transaction (Art. 19)."""
    access, version, role = await _signable(user, number, version_number)
    if sha256 != version.sha256 or rules.text_sha256(version.text) != version.sha256:
        raise CaseConflict("agreement_text_changed")
    code_row: SigningCode | None = None
    if method is SignatureMethod.PASSWORD:
        await _check_password(user, secret, now, settings)
    else:
        code_row = await _check_code(user, version, secret, now, settings)
    try:
        async with atomic():
            case = await locked_case(access.case.id)
            version = await AgreementVersion.get(id=version.id)
            if version.status != AgreementStatus.SIGNING:
                raise CaseConflict(_status_code_of(version))
            if version.sha256 != sha256:
                raise CaseConflict("agreement_text_changed")
            if case.status != Status.IN_MEDIATION:
                raise CaseConflict("case_not_in_mediation")
            if code_row is not None:
                claimed = await SigningCode.filter(id=code_row.id, used_at__isnull=True).update(
                    used_at=now
                )
                if not claimed:
                    raise AgreementError("signing_code_missing")
            signature = await AgreementSignature.create(
                version=version,
                role=role,
                signer=user,
                method=method,
                signed_sha256=version.sha256,
                attestation=rules.attestation(
                    settings.secret_key,
                    version_id=version.id,
                    role=role,
                    signer_id=user.id,
                    sha256=version.sha256,
                    signed_at=now,
                ),
                signed_at=now,
            )
            await record_event(
                case,
                EventKind.AGREEMENT_SIGNED,
                now,
                actor_id=user.id,
                version=version.number,
                role=role,
                method=str(method),
                sha256=version.sha256,
            )
            # Signed, not yet counted: where the concurrency tests hold a signer (cases.pause).
            await pause_point("agreement_sign")
            roles = await AgreementSignature.filter(version=version).values_list("role", flat=True)
            effective = rules.takes_effect(str(r) for r in roles)
            if effective:
                await _take_effect(case, version, now, settings)
            on_commit(partial(announce_version, hub, version.id))
            if effective:
                on_commit(partial(_issue_pdf, issue_pdf, version.id))
    except IntegrityError:
        # The same role signed meanwhile (two devices of one party): one signature stands.
        raise CaseConflict("agreement_already_signed") from None
    return Signed(await AgreementVersion.get(id=version.id), signature, effective)


async def _take_effect(
    case: Case, version: AgreementVersion, now: datetime, settings: Settings
) -> None:
    """Seal, mark effective, open the performance items, settle the case, tell everyone.
    Guarded by a conditional update: whatever runs twice, the effect happens once."""
    organisation = await Organisation.get(id=case.organisation_id)
    seal = rules.seal(
        settings.secret_key,
        organisation_code=organisation.code,
        organisation_name=organisation.name,
        sha256=version.sha256,
        sealed_at=now,
    )
    changed = await AgreementVersion.filter(id=version.id, status=AgreementStatus.SIGNING).update(
        status=AgreementStatus.EFFECTIVE, effective_at=now, sealed_by_id=organisation.id, seal=seal
    )
    if not changed:
        return
    for item in rules.performance_plan(version.content):
        await PerformanceItem.create(
            version_id=version.id,
            case_id=case.id,
            term_number=item.term_number,
            obligor_side=item.obligor_side,
            description=item.description,
            due_on=item.due_on,
        )
    await record_event(
        case,
        EventKind.AGREEMENT_EFFECTIVE,
        now,
        actor_label="system",
        version=version.number,
        sha256=version.sha256,
        organisation=organisation.code,
    )
    await transition(case, Status.SETTLED, Actor.SYSTEM, now, agreement_version=version.number)
    await notify_parties(
        case,
        f"调解协议已生效 The mediation agreement is in effect: {case.number}",
        f"案件 {case.number} 的调解协议（第{version.number}版）已由各方签署并加盖"
        f"{organisation.name}电子印章，"
        f"自{say_time(now, 'zh_CN')}（北京时间）起生效。"
        f"请按协议约定的方式和期限履行。\n"
        f"Case {case.number}: version {version.number} of the mediation agreement was signed "
        f"by everyone, sealed by {organisation.name_en or organisation.name}, and is in effect. "
        f"Please perform it in the manner and time agreed.",
        now,
        also_mediator=True,
    )


# --- after commit ------------------------------------------------------------------------------


def agreement_url(case_number: str, version_number: int) -> str:
    return f"/cases/{case_number}/agreement/{version_number}"


async def announce_version(hub: Announcer | None, version_id: int) -> None:
    """Tell the case's session room (its latest scheduled session) about this version, as
    committed. Run after commit (`on_commit`): a failure here is logged, and the next
    announcement or a reload of the agreement page shows the state."""
    if hub is None:
        return
    version = await AgreementVersion.get(id=version_id)
    session = (
        await MediationSession.filter(case_id=version.case_id, status=SessionStatus.SCHEDULED)
        .order_by("-starts_at", "-id")
        .first()
    )
    if session is None:
        return
    case_number = await Case.filter(id=version.case_id).first().values_list("number", flat=True)
    body = {
        "version": version.number,
        "status": str(version.status),
        "sha256": version.sha256,
        "url": agreement_url(str(case_number), version.number),
    }
    try:
        await hub.announce(session.id, Kind("agreement"), body)
    except Exception:
        log.exception("agreement version %s not announced in session %s", version.id, session.id)


async def _issue_pdf(issue_pdf: IssuePdf | None, version_id: int) -> None:
    """The signed PDF, once the effect is committed (idempotent; swept later on failure)."""
    if issue_pdf is None:
        return
    try:
        await issue_pdf(version_id)
    except Exception:
        log.exception("signed PDF of agreement version %s not issued yet", version_id)


# --- what the pages show -----------------------------------------------------------------------


@dataclass(frozen=True)
class SignatureLine:
    role: str
    signer_name: str
    method: str
    signed_at: datetime
    signed_sha256: str


@dataclass(frozen=True)
class VersionLine:
    number: int
    status: str
    created_at: datetime
    frozen_at: datetime | None
    effective_at: datetime | None
    sha256: str
    signed_roles: tuple[str, ...]


@dataclass(frozen=True)
class AgreementPage:
    case: Case
    versions: list[VersionLine]  # newest first
    version: AgreementVersion | None  # the one shown
    signatures: dict[str, SignatureLine]  # role -> signature on the version shown
    missing: tuple[str, ...]  # roles still to sign (a version out for signature)
    without_account: tuple[str, ...]  # sides nobody can sign for online yet
    previous_number: int | None
    diff: list[rules.DiffLine]  # against the previous version
    is_latest: bool
    your_role: str | None
    can_edit: bool
    can_freeze: bool
    can_sign: bool
    signing_mobile: str  # masked, where a code would go ("" if none)
    pdf_ready: bool


async def agreement_page(
    access: AgreementAccess, user: User, version_number: int | None
) -> AgreementPage:
    """The agreement page for this viewer: a version (the latest by default), its
    signatures and what the viewer may do with it, and the history of versions."""
    case = access.case
    versions = await versions_of(case)
    if version_number is None:
        version = versions[-1] if versions else None
    else:
        version = await access_version(access, version_number)
    signed: dict[int, list[str]] = {}
    for version_id, role in await AgreementSignature.filter(
        version_id__in=[v.id for v in versions]
    ).values_list("version_id", "role"):
        signed.setdefault(int(str(version_id)), []).append(str(role))
    lines = [
        VersionLine(
            v.number,
            str(v.status),
            v.created_at,
            v.frozen_at,
            v.effective_at,
            v.sha256,
            tuple(r for r in rules.REQUIRED_SIGNERS if r in signed.get(v.id, [])),
        )
        for v in reversed(versions)
    ]
    signatures: dict[str, SignatureLine] = {}
    previous: AgreementVersion | None = None
    if version is not None:
        rows = await AgreementSignature.filter(version=version).order_by("signed_at", "id")
        names = dict(
            await User.filter(id__in=[r.signer_id for r in rows]).values_list("id", "display_name")
        )
        signatures = {
            str(r.role): SignatureLine(
                str(r.role),
                str(names.get(r.signer_id, "")),
                str(r.method),
                r.signed_at,
                r.signed_sha256,
            )
            for r in rows
        }
        previous = next((v for v in versions if v.number == version.number - 1), None)
    status = AgreementStatus(version.status) if version else None
    accounts = set(
        str(side)
        for side in await Party.filter(case=case, user_id__isnull=False).values_list(
            "side", flat=True
        )
    )
    in_mediation = case.status == Status.IN_MEDIATION
    role = access.signer_role
    return AgreementPage(
        case=case,
        versions=lines,
        version=version,
        signatures=signatures,
        missing=rules.missing_signers(signatures) if status is AgreementStatus.SIGNING else (),
        without_account=tuple(side for side in rules.SIDES if side not in accounts),
        previous_number=previous.number if previous else None,
        diff=rules.line_diff(previous.text, version.text) if previous and version else [],
        is_latest=version is not None and version.number == versions[-1].number,
        your_role=role,
        can_edit=access.is_mediator and in_mediation,
        can_freeze=access.is_mediator and in_mediation and status is AgreementStatus.DRAFT,
        can_sign=role is not None
        and in_mediation
        and status is AgreementStatus.SIGNING
        and role not in signatures,
        signing_mobile=mask_mobile(user.mobile) if user.mobile else "",
        pdf_ready=status is AgreementStatus.EFFECTIVE and bool(version and version.pdf_sha256),
    )


@dataclass(frozen=True)
class AgreementSummary:
    """One line for the case page: the latest version and who must still sign."""

    number: int
    status: str
    missing: tuple[str, ...]


async def agreement_summary(case: Case) -> AgreementSummary | None:
    latest = await AgreementVersion.filter(case=case).order_by("-number").first()
    if latest is None:
        return None
    roles = await AgreementSignature.filter(version=latest).values_list("role", flat=True)
    missing = (
        rules.missing_signers(str(r) for r in roles)
        if latest.status == AgreementStatus.SIGNING
        else ()
    )
    return AgreementSummary(latest.number, str(latest.status), missing)
