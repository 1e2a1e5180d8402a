"""Staff administration: platform admins and organisation admins create staff accounts."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mediation.accounts import RegistrationError, check_may_create_staff, do_create_staff
from mediation.i18n import N_
from mediation.models import Organisation, Role, User
from mediation.web import checked_form, error_page, form_text, render, signed_in

ROLE_LABELS = {
    "mediator": N_("Mediator"),
    "org_admin": N_("Organisation admin"),
    "court_clerk": N_("Court clerk"),
    "platform_admin": N_("Platform admin"),
}


async def _context(user: User, values: dict[str, str], errors: dict[str, str]) -> dict[str, object]:
    if user.role == Role.PLATFORM_ADMIN:
        organisations = await Organisation.all().order_by("track", "id")
        staff = await User.filter(role__not=Role.DISPUTANT).prefetch_related("organisation")
        roles = [r for r in Role if r is not Role.DISPUTANT]
    else:
        organisations = await Organisation.filter(id=user.organisation_id)  # type: ignore[attr-defined]
        staff = await User.filter(
            organisation_id=user.organisation_id  # type: ignore[attr-defined]
        ).prefetch_related("organisation")
        roles = [Role.MEDIATOR, Role.ORG_ADMIN]
    return {
        "organisations": organisations,
        "staff": sorted(staff, key=lambda u: (u.role, u.id)),
        "roles": roles,
        "values": values,
        "errors": errors,
        "role_labels": ROLE_LABELS,
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
        org_id = int(values["organisation"]) if values.get("organisation") else None
    except ValueError:
        return render(
            request,
            "admin/staff.html",
            await _context(user, values, {"role": "choose_one"}),
            status=422,
        )
    if not check_may_create_staff(
        user.role,
        user.organisation_id,  # type: ignore[attr-defined]
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
