"""The desk's page helpers: rendering in the clerk's language, who is signed in, CSRF."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from cases.categories import BY_CODE
from cases.clock import SHANGHAI, say_time
from cases.timeline import (
    EVENT_LABELS,
    EventWords,
    Reader,
    event_kind,
    event_words,
    say_amount,
)
from courtdesk import messages
from courtdesk.accounts import clerk_of_session
from courtdesk.errors import DeskError
from courtdesk.i18n import LOCALE_COOKIE, LOCALES, negotiate, translations
from courtdesk.models import Clerk
from courtdesk.settings import DeskSettings
from courtwire import words

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates" / "clerk"
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def _local_time(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is None:
            return moment.strftime(fmt)
        value = moment
    return value.astimezone(SHANGHAI).strftime(fmt)


def _timeline_words(locale: str, event: object) -> EventWords | None:
    """A package's timeline event (kind, at, data) in the clerk's words; None for a kind the
    desk does not know (shown as it came)."""
    if not isinstance(event, dict):
        return None
    try:
        kind = event_kind(str(event.get("kind", "")))
    except ValueError:
        return None
    data = event.get("data")
    reader = Reader(
        say=translations(locale).gettext,
        locale=locale,
        labels={"filing_kind": words.FILING_KIND_LABELS},
    )
    return event_words(kind, data if isinstance(data, dict) else {}, reader)


_AGREED = re.compile(r"金额：人民币([0-9][0-9,]*(?:\.[0-9]{1,2})?)元")


def agreed_amount(package: object) -> Decimal | None:
    """What a confirmation's agreement obliges in money: the sum of its terms' amounts, read
    from the signed text (each term says "金额：人民币3,200.00元", cases.agreements.rules).
    None when the package carries no agreement or its terms name no amount."""
    agreement = package.get("agreement") if isinstance(package, dict) else None
    text = agreement.get("text") if isinstance(agreement, dict) else None
    if not isinstance(text, str):
        return None
    amounts = [Decimal(found.replace(",", "")) for found in _AGREED.findall(text)]
    return sum(amounts, Decimal(0)) if amounts else None


def _money(value: object, locale: str) -> str:
    return say_amount(value, locale) if value not in (None, "") else ""


def _record_time(locale: str, value: datetime | str | None, seconds: bool = False) -> str:
    return "" if value is None or value == "" else say_time(value, locale, seconds=seconds)


def _environment(locale: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters["local_time"] = _local_time
    env.filters["record_time"] = lambda value, seconds=False: _record_time(locale, value, seconds)
    env.globals["timeline_words"] = lambda event: _timeline_words(locale, event)
    env.globals["agreed_amount"] = agreed_amount
    env.filters["money"] = lambda value: _money(value, locale)
    env.globals.update(
        locale=locale,
        categories=BY_CODE,
        status_labels=messages.FILING_STATUS_FOR_CLERKS,
        kind_labels=words.FILING_KIND_LABELS,
        action_labels=messages.ACTION_LABELS,
        side_labels=words.SIDE_LABELS,
        party_kind_labels=words.PARTY_KIND_LABELS,
        type_code_labels=messages.TYPE_CODE_LABELS,
        outbox_labels=messages.OUTBOX_LABELS,
        timeline_labels=EVENT_LABELS,
    )
    return env


# One environment per language, so no page is ever rendered with another's translations.
ENVIRONMENTS = {locale: _environment(locale) for locale in LOCALES}


def settings_of(request: Request) -> DeskSettings:
    settings: DeskSettings = request.app.state.settings
    return settings


def locale_of(request: Request) -> str:
    if "locale" not in request.state._state:
        request.state.locale = negotiate(
            request.cookies.get(LOCALE_COOKIE), request.headers.get("accept-language")
        )
    return str(request.state.locale)


def gettext(request: Request, message: str, **params: object) -> str:
    text = translations(locale_of(request)).gettext(message)
    return text % params if params else text


def error_text(request: Request, code: str, **params: object) -> str:
    return gettext(request, messages.ERROR_MESSAGES.get(code, code), **params)


def precheck_lines(request: Request, precheck: object) -> list[dict[str, Any]]:
    """The platform's pre-check findings as sentences, blocking ones first."""
    findings = precheck.get("findings") if isinstance(precheck, dict) else None
    lines = []
    for finding in findings if isinstance(findings, list) else []:
        if not isinstance(finding, dict):
            lines.append({"blocks": False, "ground": "", "text": str(finding)})
            continue
        raw = finding.get("params")
        params = {str(k): str(v) for k, v in (raw.items() if isinstance(raw, dict) else [])}
        for name in ("side", "roles"):
            if name in params:
                params[name] = "、".join(
                    gettext(request, words.SIDE_WORDS.get(word, word))
                    for word in params[name].split(",")
                )
        code = str(finding.get("code", ""))
        message = messages.FINDINGS_FOR_CLERKS.get(code)
        try:
            text = gettext(request, message, **params) if message else code
        except (KeyError, ValueError):  # a finding without the parameters its sentence names
            text = code
        ground = words.GROUND_LABELS.get(str(finding.get("ground", "")))
        lines.append(
            {
                "blocks": bool(finding.get("blocks")),
                "ground": gettext(request, ground) if ground else "",
                "text": text,
            }
        )
    return sorted(lines, key=lambda line: not line["blocks"])


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def flash(request: Request, kind: str, text: str) -> None:
    """A message for the next page (already translated)."""
    # Assigned, not appended in place: the session is saved only when it sees a change.
    request.session["flash"] = [*request.session.get("flash", []), [kind, text]]


# Large text and high contrast, as on the platform: a clerk's choice for this browser (the
# desk's computers are the court's, so it stays with the device, not the clerk's account).
DISPLAY_COOKIE = "display"
LARGE_TEXT = "large"


def large_text_of(request: Request) -> bool:
    return request.cookies.get(DISPLAY_COOKIE) == LARGE_TEXT


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    locale = locale_of(request)
    page = ENVIRONMENTS[locale].get_template(template)
    ctx = {
        "request": request,
        "clerk": getattr(request.state, "clerk", None),
        "csrf_token": csrf_token(request),
        "other_locale": "en" if locale == "zh_CN" else "zh_CN",
        "flashes": request.session.pop("flash", []),
        "error_text": lambda code, **p: error_text(request, code, **p),
        "large_text": large_text_of(request),
        **(context or {}),
    }
    return HTMLResponse(page.render(ctx), status_code=status)


def error_page(request: Request, code: str, status: int, **params: object) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {"message": error_text(request, code, **params), "status": status},
        status=status,
    )


async def load_clerk(request: Request) -> Clerk | None:
    clerk = await clerk_of_session(request.session)
    if clerk is None and "clerk" in request.session:
        request.session.clear()
    request.state.clerk = clerk
    return clerk


def signed_in(handler: Handler) -> Handler:
    """Every page but sign-in needs a signed-in clerk; anyone else is sent to sign in."""

    @wraps(handler)
    async def wrapper(request: Request) -> Response:
        if await load_clerk(request) is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/signin?next={quote(target, safe='/')}", status_code=303)
        return await handler(request)

    return wrapper


def clerk_of(request: Request) -> Clerk:
    clerk: Clerk = request.state.clerk
    return clerk


def sign_in(request: Request, clerk: Clerk) -> None:
    # A fresh session, so a token planted before signing in is worthless afterwards.
    request.session.clear()
    request.session["clerk"] = clerk.id
    request.session["gen"] = clerk.session_generation


def safe_next(target: str | None, default: str = "/inbox") -> str:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


@asynccontextmanager
async def checked_form(request: Request) -> AsyncIterator[FormData]:
    """Parse a form and check its CSRF token against the session's."""
    async with request.form(max_files=0, max_fields=1000) as form:
        sent = form.get("csrf_token")
        expected = request.session.get("csrf")
        if not isinstance(sent, str) or not expected or not secrets.compare_digest(sent, expected):
            raise DeskError("csrf_failed", 403)
        yield form
