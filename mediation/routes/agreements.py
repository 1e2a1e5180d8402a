"""The mediation agreement: the mediator's editor, the page where everyone reads a version and
the parties and the mediator sign, and the history of versions and signatures."""

from __future__ import annotations

from functools import partial
from itertools import zip_longest
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from cases.accounts.models import User
from cases.agreements import rules
from cases.agreements.actions import (
    AgreementError,
    AgreementForbidden,
    AgreementInvalid,
    access_agreement,
    agreement_page,
    do_put_up_for_signature,
    do_save_draft,
    do_send_signing_code,
    do_sign,
    draft_to_edit,
)
from cases.agreements.models import SignatureMethod
from cases.clock import SHANGHAI, utcnow
from cases.errors import CaseConflict, CaseError
from courtwire.words import PARTY_KIND_LABELS
from mediation.agreement_pdf import issue_signed_pdf
from mediation.labels import (
    AGREEMENT_STATUS_LABELS,
    SIGNATURE_METHOD_LABELS,
    SIGNER_ROLE_LABELS,
)
from mediation.web import checked_form, form_text, render, settings_of, signed_in

TERM_FIELDS = ("text", "obligor_side", "amount", "manner", "due_on")
SPARE_ROWS = 2
MAX_ROWS = rules.MAX_TERMS + 5  # the form's field limit keeps it near this anyway


def _labels() -> dict[str, Any]:
    return {
        "status_labels": AGREEMENT_STATUS_LABELS,
        "role_labels": SIGNER_ROLE_LABELS,
        "method_labels": SIGNATURE_METHOD_LABELS,
        "kind_labels": PARTY_KIND_LABELS,
        "required_signers": rules.REQUIRED_SIGNERS,
    }


def _version_path(number: str, version: int) -> str:
    return f"/cases/{number}/agreement/{version}"


async def _page(
    request: Request,
    version: int | None,
    *,
    error: CaseError | None = None,
    status: int = 200,
    code_open: bool = False,
) -> Response:
    user: User = request.state.user
    access = await access_agreement(user, request.path_params["number"])
    page = await agreement_page(access, user, version)
    query = request.query_params
    return render(
        request,
        "disputant/agreement.html",
        {
            "page": page,
            "error": error,
            "code_sent": query.get("code") == "sent",
            # After a wrong or expired code the panel stays open for another try.
            "code_open": code_open,
            "just_signed": query.get("signed") == "1",
            "just_effective": query.get("effective") == "1",
            **_labels(),
        },
        status=status,
    )


@signed_in()
async def current(request: Request) -> Response:
    return await _page(request, None)


@signed_in()
async def version(request: Request) -> Response:
    return await _page(request, request.path_params["version"])


# --- the mediator's editor ---------------------------------------------------------------------


def _rows_of(form: FormData) -> list[dict[str, str]]:
    columns = [
        [v if isinstance(v, str) else "" for v in form.getlist(f"term_{name}")][:MAX_ROWS]
        for name in TERM_FIELDS
    ]
    return [
        dict(zip(TERM_FIELDS, (value or "" for value in row), strict=True))
        for row in zip_longest(*columns, fillvalue="")
    ]


def _editor(
    request: Request,
    number: str,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    rows = [{k: str(v or "") for k, v in row.items()} for row in values.get("terms") or []]
    rows += [dict.fromkeys(TERM_FIELDS, "") for _ in range(SPARE_ROWS)]
    return render(
        request,
        "mediator/agreement_edit.html",
        {
            "number": number,
            "values": values,
            "rows": rows,
            "errors": errors,
            "today": utcnow().astimezone(SHANGHAI).date().isoformat(),
            **_labels(),
        },
        status=status,
    )


@signed_in()
async def edit(request: Request) -> Response:
    user: User = request.state.user
    access = await access_agreement(user, request.path_params["number"])
    if not access.is_mediator:
        raise AgreementForbidden("forbidden")
    if access.case.status != "in_mediation":
        raise CaseConflict("case_not_in_mediation")
    today = utcnow().astimezone(SHANGHAI).date()
    return _editor(request, access.case.number, await draft_to_edit(access.case, today), {})


@signed_in()
async def save(request: Request) -> Response:
    user: User = request.state.user
    number = request.path_params["number"]
    async with checked_form(request) as form:
        values: dict[str, Any] = form_text(form)
        values["terms"] = _rows_of(form)
    try:
        saved = await do_save_draft(
            user, number, values, utcnow(), settings_of(request), request.app.state.hub
        )
    except AgreementInvalid as invalid:
        access = await access_agreement(user, number)
        values["parties"] = (await draft_to_edit(access.case))["parties"]
        # Wholly blank rows are dropped; the spare rows are added back.
        values["terms"] = [row for row in values["terms"] if any(row.values())]
        return _editor(request, number, values, invalid.field_errors, status=422)
    return RedirectResponse(_version_path(number, saved.number), status_code=303)


# --- putting up for signature and signing ------------------------------------------------------


@signed_in()
async def freeze(request: Request) -> Response:
    user: User = request.state.user
    number, version_number = request.path_params["number"], request.path_params["version"]
    async with checked_form(request):
        pass
    try:
        await do_put_up_for_signature(
            user, number, version_number, utcnow(), settings_of(request), request.app.state.hub
        )
    except AgreementInvalid as invalid:
        code = next(iter(invalid.field_errors.values()))
        return await _page(request, version_number, error=CaseError(code), status=422)
    except CaseConflict as conflict:
        return await _page(request, version_number, error=conflict, status=409)
    return RedirectResponse(_version_path(number, version_number), status_code=303)


@signed_in()
async def send_code(request: Request) -> Response:
    user: User = request.state.user
    number, version_number = request.path_params["number"], request.path_params["version"]
    async with checked_form(request):
        pass
    try:
        await do_send_signing_code(user, number, version_number, utcnow(), settings_of(request))
    except (AgreementError, CaseConflict) as refused:
        return await _page(request, version_number, error=refused, status=refused.status_code)
    return RedirectResponse(
        f"{_version_path(number, version_number)}?code=sent#sign", status_code=303
    )


@signed_in()
async def sign(request: Request) -> Response:
    user: User = request.state.user
    number, version_number = request.path_params["number"], request.path_params["version"]
    async with checked_form(request) as form:
        values = form_text(form)
    try:
        method = SignatureMethod(values.get("method", ""))
    except ValueError:
        return await _page(request, version_number, error=AgreementError("choose_one"), status=422)
    secret = values.get("password" if method is SignatureMethod.PASSWORD else "code", "")
    try:
        signed = await do_sign(
            user,
            number,
            version_number,
            sha256=values.get("sha256", ""),
            method=method,
            secret=secret,
            now=utcnow(),
            settings=settings_of(request),
            hub=request.app.state.hub,
            issue_pdf=partial(issue_signed_pdf, settings=settings_of(request)),
        )
    except (AgreementError, CaseConflict) as refused:
        return await _page(
            request,
            version_number,
            error=refused,
            status=refused.status_code,
            code_open=method is SignatureMethod.SMS_CODE,
        )
    flag = "effective=1" if signed.effective else "signed=1"
    return RedirectResponse(f"{_version_path(number, version_number)}?{flag}", status_code=303)


routes = [
    Route("/cases/{number:case}/agreement", current),
    Route("/cases/{number:case}/agreement/edit", edit),
    Route("/cases/{number:case}/agreement/versions", save, methods=["POST"]),
    Route("/cases/{number:case}/agreement/{version:id}", version),
    Route("/cases/{number:case}/agreement/{version:id}/freeze", freeze, methods=["POST"]),
    Route("/cases/{number:case}/agreement/{version:id}/code", send_code, methods=["POST"]),
    Route("/cases/{number:case}/agreement/{version:id}/sign", sign, methods=["POST"]),
]
