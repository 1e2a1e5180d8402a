"""The disputant portal: file a dispute, my cases, case detail, evidence."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from cases.access import CaseFacts, handles_case, viewer_of
from cases.accounts.models import Role, User
from cases.actions import (
    Filer,
    Repeated,
    access_case,
    access_evidence,
    cases_visible_to,
    do_add_evidence,
)
from cases.agreements.actions import agreement_summary
from cases.categories import CATEGORIES
from cases.clock import local_date, utcnow
from cases.evidence_files import MAX_EVIDENCE_BYTES, MAX_EVIDENCE_FILES
from cases.evidence_store import blob_path
from cases.filing import REQUIRED_CONSENTS
from cases.intake import (
    FilingInvalid,
    OnMatch,
    PossibleDuplicate,
    Upload,
    check_uploads,
    file_dispute_reporting,
    kept_token,
    read_kept,
    read_repeated,
    repeated_token,
    store_uploads,
)
from cases.models import Case, Side
from cases.performance.actions import case_outcome
from cases.sessions.actions import offer_history, viewer_as_participant
from cases.steps import Seat
from courtwire.words import PARTY_KIND_LABELS
from mediation.court_view import court_context
from mediation.duplicates_view import REASONS_FOR_APPLICANT, duplicates_context
from mediation.negotiation_view import label_context, negotiation_context
from mediation.order_view import order_views
from mediation.presenters import (
    STATUS_LABELS,
    CaseView,
    case_view,
    session_rows,
)
from mediation.routing_view import routing_view
from mediation.steps_view import STEP_STATE_LABELS, seat_of, steps_view
from mediation.web import checked_form, form_text, render, settings_of, signed_in


async def read_uploads(form: FormData, field: str = "evidence") -> list[Upload]:
    files = [f for f in form.getlist(field) if isinstance(f, UploadFile) and f.filename]
    if len(files) > MAX_EVIDENCE_FILES:
        # Too many: the check refuses them all, so none needs reading into memory.
        return [Upload(str(f.filename), b"") for f in files]
    # Read one byte past the limit: enough to know a file is too large, no more.
    return [Upload(str(f.filename), await f.read(MAX_EVIDENCE_BYTES + 1)) for f in files]


def _filing_context(
    request: Request,
    user: User,
    values: dict[str, str],
    error: FilingInvalid | PossibleDuplicate | None,
) -> dict[str, object]:
    defaults = {
        "domain": "tourism",
        "applicant_kind": "natural_person",
        "respondent_kind": "merchant",
        "applicant_name": user.display_name,
        "applicant_mobile": user.mobile or "",
        "applicant_email": user.email or "",
    }
    return {
        "values": {**defaults, **values},
        "errors": error.field_errors if isinstance(error, FilingInvalid) else {},
        "file_errors": error.file_errors if isinstance(error, FilingInvalid) else [],
        # "You already have CNM-... against X": add this to it, or file anyway.
        "duplicate": error if isinstance(error, PossibleDuplicate) else None,
        "duplicate_reasons": REASONS_FOR_APPLICANT,
        "all_categories": CATEGORIES,
        "consents": REQUIRED_CONSENTS,
        "kind_labels": PARTY_KIND_LABELS,
        "kept": error.kept if error else [],
        "repeated": error.repeated if error else [],
        "kept_token": kept_token(settings_of(request), error.kept) if error and error.kept else "",
    }


@signed_in(Role.DISPUTANT)
async def file_case(request: Request) -> Response:
    user: User = request.state.user
    if request.method == "GET":
        return render(request, "disputant/file.html", _filing_context(request, user, {}, None))
    # cases.filing shows text that may not be stored as a field error
    async with checked_form(request, check_text=False) as form:
        values = form_text(form)
        uploads = await read_uploads(form)
    # Told of an open case of the same dispute, the person chose: add it there, or file.
    choice = values.pop("duplicate_choice", "")
    told_of = values.pop("duplicate_of", "") or None
    on_match = {"merge": OnMatch.MERGE, "new": OnMatch.FILE_ANYWAY}.get(choice, OnMatch.ASK)
    try:
        settings = settings_of(request)
        kept = read_kept(settings, values.pop("kept_evidence", None))
        filed = await file_dispute_reporting(
            settings,
            values,
            uploads,
            Filer(user_id=user.id),
            utcnow(),
            kept,
            on_match=on_match,
            merge_into=told_of,
        )
    except FilingInvalid as error:
        return render(
            request,
            "disputant/file.html",
            _filing_context(request, user, values, error),
            status=422,
        )
    except PossibleDuplicate as asked:
        # Nothing filed: the form comes back with the question (and the files kept).
        return render(
            request,
            "disputant/file.html",
            _filing_context(request, user, values, asked),
            status=409,
        )
    landing = "merged" if filed.merged else "filed"
    return RedirectResponse(
        f"/cases/{filed.case.number}?{landing}=1{_repeated_query(request, filed.repeated)}",
        status_code=303,
    )


def _repeated_query(request: Request, repeated: list[Repeated]) -> str:
    """Files attached twice are filed once; the page after the redirect says so."""
    if not repeated:
        return ""
    return "&" + urlencode({"repeated": repeated_token(settings_of(request), repeated)})


@signed_in()
async def case_list(request: Request) -> Response:
    user: User = request.state.user
    cases = await cases_visible_to(viewer_of(user))
    return render(request, "disputant/cases.html", {"cases": cases, "status_labels": STATUS_LABELS})


@signed_in()
async def case_detail(request: Request) -> Response:
    user: User = request.state.user
    viewer = viewer_of(user)
    case, facts = await access_case(viewer, request.path_params["number"])
    view = await case_view(case, viewer, facts)
    return await _case_page(
        request,
        case,
        facts,
        view,
        just_filed=request.query_params.get("filed") == "1",
        just_merged=request.query_params.get("merged") == "1",
        repeated=read_repeated(settings_of(request), request.query_params.get("repeated")),
    )


async def _case_page(
    request: Request,
    case: Case,
    facts: CaseFacts,
    view: CaseView,
    *,
    just_filed: bool = False,
    just_merged: bool = False,
    file_errors: list[tuple[str, str]] | None = None,
    repeated: list[Repeated] | None = None,
    status: int = 200,
) -> Response:
    viewer = viewer_of(request.state.user)
    as_participant = await viewer_as_participant(
        request.state.user, case, handles_case(viewer, facts)
    )
    offers = await offer_history(case, as_participant)
    routing = await routing_view(case, viewer, facts, view.viewer_side)
    sessions = await session_rows(case, utcnow())
    agreement = await agreement_summary(case)
    court = await court_context(request, case, view.viewer_side)
    seat = seat_of(case, viewer, facts, view.viewer_side)
    outcome = await case_outcome(case, view.viewer_side, local_date(utcnow()))
    return render(
        request,
        "disputant/case.html",
        {
            "case": view,
            "offers": offers,
            "routing": routing,
            "sessions": sessions,
            "agreement": agreement,
            "outcome": outcome,
            **court,
            "steps": steps_view(
                case,
                seat,
                routing=routing,
                sessions=sessions,
                agreement=agreement,
                offers=offers,
                court=court["court"],
                outcome=outcome,
            ),
            "step_state_labels": STEP_STATE_LABELS,
            "party_reasons": seat in (Seat.APPLICANT, Seat.RESPONDENT),
            "negotiation": await negotiation_context(case, viewer),
            "orders": await order_views(case),
            **label_context(),
            "status_labels": STATUS_LABELS,
            "kind_labels": PARTY_KIND_LABELS,
            "just_filed": just_filed,
            "just_merged": just_merged,
            **await duplicates_context(case, viewer, facts, settings_of(request), utcnow()),
            "file_errors": file_errors or [],
            "repeated": repeated or [],
        },
        status=status,
    )


@signed_in()
async def add_evidence(request: Request) -> Response:
    user: User = request.state.user
    viewer = viewer_of(user)
    number = request.path_params["number"]
    case, facts = await access_case(viewer, number)
    async with checked_form(request) as form:
        uploads = await read_uploads(form)
    view = await case_view(case, viewer, facts)
    accepted, file_errors = check_uploads(uploads)
    if file_errors or view.viewer_side is None:
        return await _case_page(
            request,
            case,
            facts,
            view,
            file_errors=file_errors or [("forbidden", "")],
            status=422 if file_errors else 403,
        )
    stored = store_uploads(settings_of(request), accepted)
    added = await do_add_evidence(viewer, number, Side(view.viewer_side), stored, utcnow())
    query = _repeated_query(request, added.repeated).replace("&", "?", 1)
    return RedirectResponse(f"/cases/{number}{query}#evidence", status_code=303)


@signed_in()
async def download_evidence(request: Request) -> Response:
    from starlette.responses import FileResponse

    user: User = request.state.user
    evidence = await access_evidence(
        viewer_of(user), request.path_params["number"], request.path_params["evidence_id"]
    )
    path = blob_path(settings_of(request).evidence_dir, evidence.sha256)
    return FileResponse(
        path,
        media_type=evidence.media_type,
        filename=evidence.filename,
        # Never let a browser render an upload inline as a page on our origin.
        headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"},
    )


routes = [
    Route("/file", file_case, methods=["GET", "POST"]),
    Route("/cases", case_list),
    Route("/cases/{number:case}", case_detail),
    Route("/cases/{number:case}/evidence", add_evidence, methods=["POST"]),
    Route("/cases/{number:case}/evidence/{evidence_id:id}", download_evidence),
]
