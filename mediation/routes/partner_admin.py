"""A partner platform's administrators: its webhook endpoints (add, edit, switch off),
rotating an endpoint's secret (the new one shown once), a test event, and the delivery log
with the replay of a dead delivery.

Thin: parse, one action, render or redirect. Every action is scoped to the platform of the
signed-in account (`partner_of`): another platform's endpoint or delivery is "not found".
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from cases.accounts.actions import RegistrationError
from cases.accounts.models import Role
from cases.clock import utcnow
from cases.errors import CaseNotFound
from cases.webhooks.actions import (
    WebhookError,
    delivery_log,
    delivery_of,
    do_add_endpoint,
    do_create_partner_admin,
    do_edit_endpoint,
    do_replay,
    do_rotate_secret,
    do_send_test_event,
    endpoint_of,
    endpoints_of,
    grace_of,
    partner_of,
    partners_for_admin,
)
from cases.webhooks.catalogue import EVENT_LABELS, SUBSCRIBABLE
from cases.webhooks.models import WebhookDelivery, WebhookEndpoint
from mediation.routes import parse_id
from mediation.web import checked_form, form_text, render, settings_of, signed_in


def N_(message: str) -> str:
    return message


# What the delivery log says of a delivery's state (this page alone shows them).
DELIVERY_STATES = {
    "pending": N_("Waiting to be sent"),
    "delivered": N_("Delivered"),
    "dead": N_("Not delivered: retries stopped"),
}


def _last_answer(row: WebhookDelivery) -> dict[str, Any]:
    """The last answer in words: the receiver's HTTP status, or that none came."""
    if row.last_status_code is not None:
        return {"status_code": row.last_status_code}
    if row.attempts and row.last_error:
        if "disabled" in row.last_error:
            return {"words": N_("Not sent: the endpoint is switched off")}
        return {"words": N_("No answer (the connection failed or timed out)")}
    return {}


def _context(request: Request) -> dict[str, Any]:
    return {
        "event_labels": EVENT_LABELS,
        "subscribable": SUBSCRIBABLE,
        "delivery_states": DELIVERY_STATES,
    }


def _endpoint_values(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "url": endpoint.url,
        "description": endpoint.description,
        "events": list(endpoint.events),
        "active": endpoint.is_active,
    }


async def _home(
    request: Request,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    partner = await partner_of(request.state.user.id)
    return render(
        request,
        "partner/endpoints.html",
        {
            "partner": partner,
            "endpoints": await endpoints_of(partner.id),
            "errors": errors or {},
            "values": values or {"events": []},
            **_context(request),
        },
        status=422 if errors else 200,
    )


@signed_in(Role.PARTNER_ADMIN)
async def home(request: Request) -> Response:
    return await _home(request)


def _form_values(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = dict(form_text(form))
    values["events"] = [str(e) for e in form.getlist("events")]
    values["active"] = form.get("active") == "on"
    return values


def _secret_page(
    request: Request, endpoint: WebhookEndpoint, secret: str, rotated: bool
) -> Response:
    return render(
        request,
        "partner/secret.html",
        {
            "endpoint": endpoint,
            "secret": secret,
            "rotated": rotated,
            "grace_hours": settings_of(request).webhook_secret_grace_hours,
        },
    )


@signed_in(Role.PARTNER_ADMIN)
async def add_endpoint(request: Request) -> Response:
    partner = await partner_of(request.state.user.id)
    async with checked_form(request, max_files=0) as form:
        values = _form_values(form)
    try:
        endpoint, secret = await do_add_endpoint(
            partner.id,
            values.get("url", ""),
            values["events"],
            values.get("description", ""),
            utcnow(),
            allow_http=settings_of(request).webhook_allow_http,
        )
    except WebhookError as error:
        return await _home(request, error.field_errors, values)
    return _secret_page(request, endpoint, secret, rotated=False)


async def _endpoint_page(
    request: Request,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    partner = await partner_of(request.state.user.id)
    endpoint = await endpoint_of(partner.id, request.path_params["endpoint_id"])
    rows = await delivery_log(partner.id, endpoint.id)
    return render(
        request,
        "partner/endpoint.html",
        {
            "partner": partner,
            "endpoint": endpoint,
            "rows": rows,
            "answers": {row.id: _last_answer(row) for row in rows},
            "errors": errors or {},
            "values": values or _endpoint_values(endpoint),
            "done": request.query_params.get("done", ""),
            "rotating": bool(endpoint.previous_secret)
            and endpoint.previous_secret_until is not None
            and endpoint.previous_secret_until > utcnow(),
            **_context(request),
        },
        status=422 if errors else 200,
    )


@signed_in(Role.PARTNER_ADMIN)
async def endpoint_page(request: Request) -> Response:
    return await _endpoint_page(request)


@signed_in(Role.PARTNER_ADMIN)
async def edit_endpoint(request: Request) -> Response:
    partner = await partner_of(request.state.user.id)
    endpoint_id = request.path_params["endpoint_id"]
    async with checked_form(request, max_files=0) as form:
        values = _form_values(form)
    try:
        await do_edit_endpoint(
            partner.id,
            endpoint_id,
            values.get("url", ""),
            values["events"],
            values.get("description", ""),
            values["active"],
            utcnow(),
            allow_http=settings_of(request).webhook_allow_http,
        )
    except WebhookError as error:
        return await _endpoint_page(request, error.field_errors, values)
    return RedirectResponse(f"/partner/endpoints/{endpoint_id}?done=saved", status_code=303)


@signed_in(Role.PARTNER_ADMIN)
async def rotate_secret(request: Request) -> Response:
    partner = await partner_of(request.state.user.id)
    endpoint_id = request.path_params["endpoint_id"]
    async with checked_form(request, max_files=0):
        pass
    secret = await do_rotate_secret(
        partner.id, endpoint_id, utcnow(), grace_of(settings_of(request))
    )
    endpoint = await endpoint_of(partner.id, endpoint_id)
    return _secret_page(request, endpoint, secret, rotated=True)


@signed_in(Role.PARTNER_ADMIN)
async def send_test(request: Request) -> Response:
    partner = await partner_of(request.state.user.id)
    endpoint_id = request.path_params["endpoint_id"]
    async with checked_form(request, max_files=0):
        pass
    await do_send_test_event(partner.id, endpoint_id, utcnow())
    return RedirectResponse(f"/partner/endpoints/{endpoint_id}?done=test", status_code=303)


@signed_in(Role.PARTNER_ADMIN)
async def replay_delivery(request: Request) -> Response:
    partner = await partner_of(request.state.user.id)
    delivery_id = request.path_params["delivery_id"]
    async with checked_form(request, max_files=0):
        pass
    await do_replay(partner.id, delivery_id, utcnow())
    row = await delivery_of(partner.id, delivery_id)
    return RedirectResponse(f"/partner/endpoints/{row.endpoint_id}?done=replayed", status_code=303)


# --- the platform admin: partners' administrator accounts ----------------------------------


async def _admin_partners(
    request: Request,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    created: str = "",
) -> Response:
    return render(
        request,
        "partner/admin_partners.html",
        {
            "partners": await partners_for_admin(),
            "errors": errors or {},
            "values": values or {},
            "created": created,
        },
        status=422 if errors else 200,
    )


@signed_in(Role.PLATFORM_ADMIN)
async def admin_partners(request: Request) -> Response:
    return await _admin_partners(request, created=request.query_params.get("created", ""))


@signed_in(Role.PLATFORM_ADMIN)
async def admin_add_partner_admin(request: Request) -> Response:
    async with checked_form(request, max_files=0) as form:
        values = form_text(form)
    try:
        partner_id = parse_id(values.get("partner", ""))
    except ValueError:
        return await _admin_partners(request, {"partner": "choose_one"}, values)
    try:
        user = await do_create_partner_admin(
            partner_id,
            username=values.get("username", ""),
            password=values.get("password", ""),
            display_name=values.get("display_name", ""),
        )
    except CaseNotFound:
        return await _admin_partners(request, {"partner": "choose_one"}, values)
    except RegistrationError as error:
        return await _admin_partners(request, error.field_errors, values)
    return RedirectResponse(
        f"/admin/partners?created={quote(user.username or '')}", status_code=303
    )


routes = [
    Route("/admin/partners", admin_partners),
    Route("/admin/partners/admins", admin_add_partner_admin, methods=["POST"]),
    Route("/partner", home),
    Route("/partner/endpoints", add_endpoint, methods=["POST"]),
    Route("/partner/endpoints/{endpoint_id:id}", endpoint_page),
    Route("/partner/endpoints/{endpoint_id:id}/edit", edit_endpoint, methods=["POST"]),
    Route("/partner/endpoints/{endpoint_id:id}/rotate", rotate_secret, methods=["POST"]),
    Route("/partner/endpoints/{endpoint_id:id}/test", send_test, methods=["POST"]),
    Route("/partner/deliveries/{delivery_id:id}/replay", replay_delivery, methods=["POST"]),
]
