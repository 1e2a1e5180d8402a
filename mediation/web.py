"""The web shell's helpers: rendering in the visitor's language, who is signed in, CSRF."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import aclosing, asynccontextmanager
from dataclasses import replace
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any

import jinja2
from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from cases.accounts.actions import do_set_large_text, user_of_session
from cases.accounts.models import Role, User
from cases.categories import BY_CODE
from cases.clock import say_date, say_time
from cases.errors import CaseError
from cases.evidence_files import MAX_EVIDENCE_BYTES, MAX_EVIDENCE_FILES
from cases.timeline import EVENT_LABELS, EventWords, Reader, event_words, say_amount
from courtwire.words import FILING_KIND_LABELS
from mediation.i18n import DEFAULT_LOCALE, LOCALE_COOKIE, LOCALES, negotiate, translations
from mediation.labels import (
    AGREEMENT_STATUS_LABELS,
    FILING_STATUS_FOR_PARTIES,
    SIGNATURE_METHOD_LABELS,
    SIGNER_ROLE_LABELS,
)
from mediation.messages import ERROR_MESSAGES
from mediation.negotiation_view import REMEDY_LABELS, SIDE_LABELS
from mediation.presenters import PERFORMANCE_STATE_LABELS
from mediation.routing_view import (
    HOW_LABELS,
    REASON_LABELS,
    REASONS_FOR_PARTIES,
    REGIME_LABELS,
    TRACK_LABELS,
)
from mediation.settings import Settings
from realtime.text import is_storable

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


# The platform's own catalogues of codes that only its timeline shows (cases.timeline.Reader).
TIMELINE_CATALOGUES = {
    "filing_kind": FILING_KIND_LABELS,
    "signature_method": SIGNATURE_METHOD_LABELS,
    "signer_role": SIGNER_ROLE_LABELS,
    "court_status": FILING_STATUS_FOR_PARTIES,
    "agreement_status": AGREEMENT_STATUS_LABELS,
    "remedy_kind": REMEDY_LABELS,
    "negotiation_side": SIDE_LABELS,
}


def record_reader(locale: str = DEFAULT_LOCALE) -> Reader:
    """Who a record is made for: the platform's catalogues in `locale`. A record that is kept
    (the transcript) is made in the default language, Simplified Chinese, the court's."""
    return Reader(say=translations(locale).gettext, locale=locale, labels=TIMELINE_CATALOGUES)


def timeline_words_in(locale: str, event: Any, names: dict[int, str] | None = None) -> EventWords:
    """A case's timeline event (a presenters.EventView) in the reader's words."""
    reader = replace(record_reader(locale), names=names or {})
    return event_words(
        event.kind, event.data, reader, actor_label=event.actor_label, actor_name=event.actor_name
    )


def record_time_in(locale: str, value: datetime | str | None, seconds: bool = False) -> str:
    """A time in a record, in Beijing time, as official records write it."""
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
    env.filters["money"] = lambda value: "" if value in (None, "") else say_amount(value, locale)
    env.filters["record_date"] = lambda value: "" if value is None else say_date(value, locale)
    env.filters["record_time"] = lambda value, seconds=False: record_time_in(locale, value, seconds)
    env.globals["timeline_words"] = lambda event, names=None: timeline_words_in(
        locale, event, names
    )
    env.globals["locale"] = locale
    env.globals["categories"] = BY_CODE
    env.globals.update(
        track_labels=TRACK_LABELS,
        reason_labels=REASON_LABELS,
        reasons_for_parties=REASONS_FOR_PARTIES,
        regime_labels=REGIME_LABELS,
        how_labels=HOW_LABELS,
        event_labels=EVENT_LABELS,
        performance_state_labels=PERFORMANCE_STATE_LABELS,
    )
    # Also a global, not only a render variable: macros imported without context (the
    # partials/forms.html field errors) see globals only.
    env.globals["error_text"] = lambda code, **params: _error_text_in(locale, code, **params)
    return env


def _error_text_in(locale: str, code: str, **params: object) -> str:
    text = translations(locale).gettext(ERROR_MESSAGES.get(code, code))
    return text % params if params else text


# One environment per language, so no request ever renders with another's translations.
ENVIRONMENTS = {locale: _environment(locale) for locale in LOCALES}


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
    return gettext(request, ERROR_MESSAGES.get(code, code), **params)


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


# The large-text, high-contrast display (适老化) on this device, for a visitor not signed in
# (a signed-in person's choice is their account's: see large_text_of).
DISPLAY_COOKIE = "display"
LARGE_TEXT = "large"


def large_text_of(request: Request) -> bool:
    """Whether this page is shown in large text and high contrast: the signed-in account's
    choice (kept in the session from sign-in on, so a page that reads no user knows it too),
    else this device's."""
    user = request.state._state.get("user")
    if user is not None:
        return bool(user.large_text)
    if "uid" in request.session:
        return bool(request.session.get("large_text"))
    return request.cookies.get(DISPLAY_COOKIE) == LARGE_TEXT


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    locale = locale_of(request)
    page = ENVIRONMENTS[locale].get_template(template)
    ctx = {
        "request": request,
        "user": getattr(request.state, "user", None),
        "csrf_token": csrf_token(request),
        "other_locale": "en" if locale == "zh_CN" else "zh_CN",
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


async def load_user(request: Request) -> User | None:
    if "user" in request.state._state:
        user: User | None = request.state.user
        return user
    user = await user_of_session(request.session)
    if user is None and "uid" in request.session:
        request.session.clear()
    request.state.user = user
    return user


async def sign_in(request: Request, user: User) -> None:
    # Large text turned on before signing in is the person's choice: the account keeps it.
    if request.cookies.get(DISPLAY_COOKIE) == LARGE_TEXT and not user.large_text:
        await do_set_large_text(user, True)
    # A fresh session on sign-in, so a token planted before it is worthless afterwards.
    request.session.clear()
    request.session["uid"] = user.id
    request.session["gen"] = user.session_generation
    request.session["large_text"] = bool(user.large_text)
    request.state.user = user


def signed_in(*roles: Role) -> Callable[[Handler], Handler]:
    """Require a signed-in user (of one of `roles`, if given); visitors go to sign in."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapper(request: Request) -> Response:
            user = await load_user(request)
            if user is None:
                target = request.url.path
                if request.url.query:
                    target += "?" + request.url.query
                return RedirectResponse(f"/signin?next={_quote(target)}", status_code=303)
            if roles and user.role not in roles:
                return error_page(request, "forbidden", 403)
            return await handler(request)

        return wrapper

    return decorate


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


class CsrfFailed(CaseError):
    status_code = 403


class FormTextInvalid(CaseError):
    status_code = 422


def unstorable_fields(form: FormData) -> list[str]:
    """Names of the fields whose text, or upload's file name, may not be stored (NUL and
    other control characters: see realtime.text; a browser never sends them)."""
    return [
        name
        for name, value in form.multi_items()
        if not is_storable(name)
        or not is_storable((value.filename or "") if isinstance(value, UploadFile) else value)
    ]


@asynccontextmanager
async def checked_form(
    request: Request, *, max_files: int = 50, check_text: bool = True
) -> AsyncIterator[FormData]:
    """Parse a form and check its CSRF token; uploads stay readable inside the block.

    Text that may not be stored is refused here for every form (a translated 422, nothing
    changed), unless the caller checks it itself to show it as a field error
    (`check_text=False`: the filing form, through cases.filing).

    The parser's own file limit is set above the evidence limit, so that a person who picks
    too many files gets our translated message, not the parser's bare 400."""
    content_type, _ = parse_options_header(request.headers.get("content-type", ""))
    if content_type == b"multipart/form-data":
        form = await _bounded_multipart(request, max_files)
    else:
        form = await request.form(max_files=max_files, max_fields=200)
    try:
        sent = form.get("csrf_token")
        expected = request.session.get("csrf")
        if not isinstance(sent, str) or not expected or not secrets.compare_digest(sent, expected):
            raise CsrfFailed("csrf_failed")
        if check_text and unstorable_fields(form):
            raise FormTextInvalid("bad_text")
        yield form
    finally:
        await form.close()


class BodyTooLarge(HTTPException):
    """Raised from `receive` as the bytes arrive: the app's HTTPException handler answers
    413 with a translated page (or JSON under /api/) while the rest is still unsent."""

    def __init__(self, code: str = "request_too_large", **params: object) -> None:
        super().__init__(413, code)
        self.code = code
        self.params = params


class _FileBoundParser(MultiPartParser):
    """Starlette's parser, refusing a file part as soon as it passes the largest evidence
    file by more than a megabyte: a 150 MB file is stopped after about 21 MB instead of
    being spooled to disk before the size check. A file just over the limit (a 20.5 MB
    scan) still reaches the route, which names it on the form the person gets back.
    (The whole body's bound, ten such files, is the ASGI layer's: mediation/middleware.py.)"""

    max_file_bytes = MAX_EVIDENCE_BYTES + 1024 * 1024

    def on_part_begin(self) -> None:
        super().on_part_begin()
        self._file_bytes = 0

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current_part.file is not None:
            self._file_bytes += end - start
            if self._file_bytes > self.max_file_bytes:
                raise BodyTooLarge(
                    "upload_too_large",
                    file_mb=MAX_EVIDENCE_BYTES // (1024 * 1024),
                    files=MAX_EVIDENCE_FILES,
                )
        super().on_part_data(data, start, end)


async def _bounded_multipart(request: Request, max_files: int) -> FormData:
    async with aclosing(request.stream()) as stream:
        parser = _FileBoundParser(request.headers, stream, max_files=max_files, max_fields=200)
        try:
            return await parser.parse()
        except MultiPartException as exc:
            raise HTTPException(status_code=400, detail=exc.message) from None
        except BaseException:
            # Cut off (here or by the ASGI bound): the parser closes its spooled files only
            # on its own errors, so close them now rather than leave them to the collector.
            for spooled in parser._files_to_close_on_error:
                spooled.close()
            raise


def form_text(form: FormData) -> dict[str, str]:
    return {k: v for k, v in form.multi_items() if isinstance(v, str)}
