"""Staff administration: platform admins and organisation admins create staff accounts."""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from cases.accounts.actions import RegistrationError, check_may_create_staff, do_create_staff
from cases.accounts.models import STAFF_ROLES, MediatorLeave, Organisation, Role, User
from cases.categories import CATEGORIES
from cases.routing.roster import (
    LANGUAGES,
    RosterInvalid,
    access_profile,
    average_days,
    check_profile,
    do_add_leave,
    do_update_profile,
    mediator_records,
    roster_of,
)
from mediation.labels import ACCOUNT_ROLE_LABELS
from mediation.routes import parse_id
from mediation.web import checked_form, error_page, form_text, render, signed_in


async def _context(user: User, values: dict[str, str], errors: dict[str, str]) -> dict[str, object]:
    if user.role == Role.PLATFORM_ADMIN:
        organisations = await Organisation.all().order_by("track", "id")
        # Merchants' handlers are not staff: they enrol with their merchant (/merchant/enrol).
        staff = await User.filter(role__in=sorted(STAFF_ROLES)).prefetch_related("organisation")
        roles = [r for r in Role if r in STAFF_ROLES]
    else:
        organisations = await Organisation.filter(id=user.organisation_id)
        staff = await User.filter(organisation_id=user.organisation_id).prefetch_related(
            "organisation"
        )
        roles = [Role.MEDIATOR, Role.ORG_ADMIN]
    return {
        "organisations": organisations,
        "staff": sorted(staff, key=lambda u: (u.role, u.id)),
        "roles": roles,
        "values": values,
        "errors": errors,
        "role_labels": ACCOUNT_ROLE_LABELS,
    }


@signed_in(Role.PLATFORM_ADMIN, Role.ORG_ADMIN)
async def staff(request: Request) -> Response:
    user: User = request.state.user
    if request.method == "GET":
        return render(request, "admin/staff.html", await _context(user, {}, {}))
    async with checked_form(request) as form:
        values = form_text(form)
    try:
        role = Role(values.get("role", ""))
        org_id = parse_id(values["organisation"]) if values.get("organisation") else None
    except ValueError:
        return render(
            request,
            "admin/staff.html",
            await _context(user, values, {"role": "choose_one"}),
            status=422,
        )
    if not check_may_create_staff(
        user.role,
        user.organisation_id,
        role,
        org_id,
    ):
        return error_page(request, "forbidden", 403)
    try:
        await do_create_staff(
            username=values.get("username", ""),
            password=values.get("password", ""),
            role=role,
            display_name=values.get("display_name", "").strip() or values.get("username", ""),
            organisation_id=org_id,
        )
    except RegistrationError as error:
        values.pop("password", None)
        return render(
            request, "admin/staff.html", await _context(user, values, error.field_errors), 422
        )
    return RedirectResponse("/admin/staff", status_code=303)


routes = [Route("/admin/staff", staff, methods=["GET", "POST"])]


@signed_in(Role.PLATFORM_ADMIN, Role.ORG_ADMIN)
async def roster(request: Request) -> Response:
    user: User = request.state.user
    profiles = await roster_of(user)
    return render(
        request,
        "admin/roster.html",
        {
            "profiles": profiles,
            "records": await mediator_records(p.user_id for p in profiles),  # type: ignore[attr-defined]
            "role_labels": ACCOUNT_ROLE_LABELS,
        },
    )


@signed_in(Role.PLATFORM_ADMIN, Role.ORG_ADMIN)
async def roster_entry(request: Request) -> Response:
    user: User = request.state.user
    mediator_id = request.path_params["user_id"]
    profile = await access_profile(user, mediator_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        async with checked_form(request) as form:
            action = form.get("action")
            try:
                if action == "leave":
                    values = form_text(form)
                    await do_add_leave(
                        user,
                        mediator_id,
                        _date_field(values, "starts_on"),
                        _date_field(values, "ends_on"),
                        values.get("reason", ""),
                    )
                else:
                    data = check_profile(
                        [str(v) for v in form.getlist("specialties")],
                        [str(v) for v in form.getlist("languages")],
                        str(form.get("regions") or "").split(","),
                        str(form.get("capacity") or ""),
                        str(form.get("affiliations") or "").split(),
                        form.get("is_active") == "on",
                    )
                    await do_update_profile(user, mediator_id, data)
                return RedirectResponse(f"/admin/roster/{mediator_id}", status_code=303)
            except RosterInvalid as invalid:
                errors = invalid.field_errors
    leaves = await MediatorLeave.filter(mediator_id=mediator_id).order_by("-starts_on")
    return render(
        request,
        "admin/roster_entry.html",
        {
            "profile": profile,
            "records": await mediator_records([mediator_id]),
            "days": await average_days([mediator_id]),
            "leaves": leaves,
            "errors": errors,
            "all_categories": CATEGORIES,
            "languages": LANGUAGES,
        },
        status=422 if errors else 200,
    )


def _date_field(values: dict[str, str], name: str) -> date:
    try:
        return date.fromisoformat(values.get(name, "").strip())
    except ValueError:
        raise RosterInvalid({name: "date_invalid"}) from None


routes += [
    Route("/admin/roster", roster),
    Route("/admin/roster/{user_id:id}", roster_entry, methods=["GET", "POST"]),
]
