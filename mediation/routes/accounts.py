"""Register, sign in, sign out, and choose a language."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from cases.accounts.actions import (
    AccountError,
    RegistrationError,
    check_sign_in,
    do_register_disputant,
    do_set_large_text,
    do_sign_out_everywhere,
)
from cases.clock import utcnow
from mediation.i18n import LOCALE_COOKIE, LOCALES
from mediation.web import (
    DISPLAY_COOKIE,
    LARGE_TEXT,
    checked_form,
    form_text,
    load_user,
    render,
    safe_next,
    settings_of,
    sign_in,
)


def home_for(user_role: str) -> str:
    if user_role == "merchant":
        return "/merchant"
    if user_role == "partner_admin":
        return "/partner"
    if user_role == "governance":
        return "/governance"
    return "/file" if user_role == "disputant" else "/cases"


async def home(request: Request) -> Response:
    user = await load_user(request)
    return render(request, "home.html", {"signed_in": user is not None})


async def register(request: Request) -> Response:
    await load_user(request)
    next_url = safe_next(request.query_params.get("next"), "/file")
    if request.method == "GET":
        return render(
            request, "accounts/register.html", {"values": {}, "errors": {}, "next": next_url}
        )
    async with checked_form(request) as form:
        values = form_text(form)
    try:
        user = await do_register_disputant(
            identifier=values.get("identifier", ""),
            password=values.get("password", ""),
            display_name=values.get("display_name", ""),
        )
    except RegistrationError as error:
        values.pop("password", None)
        return render(
            request,
            "accounts/register.html",
            {"values": values, "errors": error.field_errors, "next": next_url},
            status=422,
        )
    await sign_in(request, user)
    return RedirectResponse(safe_next(values.get("next"), "/file"), status_code=303)


async def signin(request: Request) -> Response:
    await load_user(request)
    next_url = safe_next(request.query_params.get("next"), "")
    if request.method == "GET":
        return render(
            request, "accounts/signin.html", {"identifier": "", "error": None, "next": next_url}
        )
    async with checked_form(request) as form:
        values = form_text(form)
    settings = settings_of(request)
    identifier = values.get("identifier", "")
    try:
        user = await check_sign_in(
            identifier,
            values.get("password", ""),
            remote_addr=request.client.host if request.client else "unknown",
            now=utcnow(),
            max_failures=settings.max_login_failures,
            window=timedelta(minutes=settings.login_lockout_minutes),
            slowdown_seconds=settings.sign_in_slowdown_seconds,
        )
    except AccountError as error:
        return render(
            request,
            "accounts/signin.html",
            {
                "identifier": identifier,
                "error": (error.code, error.params),
                "next": values.get("next", ""),
            },
            status=error.status_code if error.status_code == 429 else 401,
        )
    await sign_in(request, user)
    return RedirectResponse(safe_next(values.get("next"), home_for(user.role)), status_code=303)


async def signout(request: Request) -> Response:
    async with checked_form(request):
        pass
    if user := await load_user(request):
        await do_sign_out_everywhere(user)
    request.session.clear()
    return RedirectResponse("/", status_code=303)


async def choose_language(request: Request) -> Response:
    locale = request.path_params["locale"]
    response = RedirectResponse(safe_next(request.query_params.get("next"), "/"), status_code=303)
    if locale in LOCALES:
        response.set_cookie(
            LOCALE_COOKIE,
            locale,
            max_age=365 * 24 * 3600,
            samesite="lax",
            secure=settings_of(request).secure_cookies,
        )
    return response


async def choose_display(request: Request) -> Response:
    """Large text and high contrast (适老化) on or off: for this device, and for the account
    when someone is signed in (so it follows them to other devices)."""
    async with checked_form(request) as form:
        values = form_text(form)
    on = values.get("large_text") == "on"
    target = safe_next(values.get("next"), "/")
    user = await load_user(request)
    if user is not None:
        await do_set_large_text(user, on)
        request.session["large_text"] = on
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        DISPLAY_COOKIE,
        LARGE_TEXT if on else "standard",
        max_age=365 * 24 * 3600,
        samesite="lax",
        secure=settings_of(request).secure_cookies,
        httponly=True,
    )
    return response


routes = [
    Route("/", home),
    Route("/register", register, methods=["GET", "POST"]),
    Route("/signin", signin, methods=["GET", "POST"]),
    Route("/signout", signout, methods=["POST"]),
    Route("/lang/{locale}", choose_language),
    Route("/display", choose_display, methods=["POST"]),
]
