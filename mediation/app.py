"""The application factory: one Starlette app serving pages, the partner API and (later) rooms."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from tortoise.contrib.starlette import RegisterTortoise

from cases.actions import do_end_unanswered_invitations, do_sweep_unreferenced_evidence
from cases.analytics.actions import roll_up_due
from cases.clock import utcnow
from cases.court.handoff import deliver_due as deliver_court_filings
from cases.deadlines.actions import do_send_deadline_reminders
from cases.endings.actions import do_time_out_overdue_mediations
from cases.errors import CaseError
from cases.negotiation.actions import do_expire_negotiations, do_remind_merchants
from cases.partners.gathering import FilingGathering
from cases.performance.actions import do_send_performance_reminders
from cases.routing.assignment import (
    do_appoint_when_choice_window_closes,
    do_reassign_unanswered,
    do_route_accepted_cases,
)
from cases.status import TransitionError
from cases.webhooks.actions import deliver_due as deliver_webhooks
from mediation.agreement_pdf import do_issue_missing_pdfs
from mediation.db import tortoise_config
from mediation.middleware import (
    AccessLog,
    BodyLimit,
    SecurityHeaders,
    WebSocketOrigin,
    origin_of,
)
from mediation.notify import Notifier
from mediation.production import check_fit_for_production
from mediation.reports import run_early_warnings
from mediation.routes import (
    accounts,
    admin,
    agreements,
    claims,
    court,
    court_admin,
    court_api,
    disputes,
    governance,
    invitations,
    merchants,
    partner_admin,
    partner_api,
    performance,
    routing,
    sessions,
    verification,
    warnings,
)
from mediation.security_log import security_logs
from mediation.settings import Settings, load_settings
from mediation.web import TEMPLATES_DIR, BodyTooLarge, error_page, error_text
from realtime.broker import broker_for
from realtime.hub import Hub

log = logging.getLogger("mediation")


KEEP_UNREFERENCED_FILES = timedelta(days=1)
SWEEP_EVERY_ROUNDS = 720  # about hourly at the default interval
WARNINGS_EVERY_ROUNDS = 60  # about every five minutes: the early warnings' rules


async def run_background_jobs(notifier: Notifier, interval: float, settings: Settings) -> None:
    """The platform's clockwork: end unanswered invitations, route accepted cases, appoint
    when the parties' choice window closes, replace mediators who did not answer, end
    mediations past their limit, issue signed PDFs a crash left behind, send reminders
    (time limits, performance of agreements), deliver notices, court filings and partners'
    webhooks. Each step claims its rows by conditional update, so every server process may
    run it at once."""
    rounds = 0
    while True:
        rounds += 1
        try:
            # Each round in a task of its own: when the database goes away as a transaction
            # begins, the ORM's atomic() leaves the task pointed at a dead connection
            # (every later transaction in that task fails); that must end with the round.
            await asyncio.create_task(_one_round(notifier, settings, rounds))
        except Exception:  # a failing round must not end the loop; the next one retries
            log.exception("background jobs round failed")
        await asyncio.sleep(interval)


async def _one_round(notifier: Notifier, settings: Settings, rounds: int) -> None:
    now = utcnow()
    if rounds % SWEEP_EVERY_ROUNDS == 1:
        await do_sweep_unreferenced_evidence(settings.evidence_dir, now, KEEP_UNREFERENCED_FILES)
    await do_end_unanswered_invitations(now)
    await do_expire_negotiations(now)
    await do_remind_merchants(now)
    await do_route_accepted_cases(now)
    await do_appoint_when_choice_window_closes(now)
    await do_reassign_unanswered(now)
    await do_time_out_overdue_mediations(now)
    await do_issue_missing_pdfs(settings, now)
    await do_send_deadline_reminders(now)
    await do_send_performance_reminders(now)
    await roll_up_due(now)  # the figures, after this round's events
    if rounds % WARNINGS_EVERY_ROUNDS == 1:  # alerts, and last month's report once
        await run_early_warnings(settings, now)
    await notifier.deliver_due(now)
    await deliver_court_filings(now, settings)
    await deliver_webhooks(now, settings)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def case_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CaseError)
    if _is_api(request):
        return partner_api.api_exception(request, exc)
    return error_page(request, exc.code, exc.status_code, **exc.params)


async def transition_error(request: Request, exc: Exception) -> Response:
    return error_page(request, "case_changed_meanwhile", 409)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    # The exception's headers are kept: a 405 names the methods it would take (`Allow`).
    headers = dict(exc.headers or {})
    if isinstance(exc, BodyTooLarge):
        code: str | None = exc.code
        params = exc.params
        # The rest of the body is not read: the connection ends after this answer.
        headers["connection"] = "close"
    else:
        code = {404: "not_found", 403: "forbidden", 413: "request_too_large"}.get(exc.status_code)
        params = {}
    if _is_api(request) and isinstance(exc, BodyTooLarge):
        # The partner API's own error body: a code and its translated sentence.
        answer = partner_api.api_error(request, exc.code, 413)
        answer.headers.update(headers)
        return answer
    if _is_api(request):
        # Translated like every API error.
        message = error_text(request, code) if code else exc.detail
        return JSONResponse(
            {"error": code or "error", "message": message}, exc.status_code, headers=headers
        )
    if code:
        response: Response = error_page(request, code, exc.status_code, **params)
    else:
        response = PlainTextResponse(str(exc.detail), exc.status_code)
    response.headers.update(headers)
    return response


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


def proxy_headers(settings: Settings) -> list[Middleware]:
    """X-Forwarded-For and -Proto believed from the configured proxies only (uvicorn's own
    middleware, given our list; `mediation serve` turns uvicorn's default trust of 127.0.0.1
    off). Without proxies configured, the connecting address is the client's."""
    if not settings.trusted_proxies:
        return []
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    return [Middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))]


def create_app(settings: Settings | None = None, *, background_jobs: bool = True) -> Starlette:
    settings = settings or load_settings()
    notifier = Notifier.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        with security_logs(settings):
            async with RegisterTortoise(app, config=tortoise_config(settings.database_url)):
                if settings.environment == "production":
                    # Refuses to start, naming every problem at once (mediation/production.py).
                    await check_fit_for_production(settings)
                hub = Hub(broker_for(settings.redis_url))
                app.state.hub = hub
                await hub.start()
                task = None
                if background_jobs and settings.background_jobs:
                    task = asyncio.create_task(run_background_jobs(notifier, 5.0, settings))
                try:
                    yield
                finally:
                    if task:
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task
                    await hub.stop()

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Mount("/static", StaticFiles(directory=TEMPLATES_DIR / "static"), name="static"),
            *accounts.routes,
            *disputes.routes,
            *invitations.routes,
            *claims.routes,
            *partner_api.routes,
            *partner_admin.routes,
            *admin.routes,
            *routing.routes,
            *sessions.routes,
            *agreements.routes,
            *verification.routes,
            *performance.routes,
            *merchants.routes,
            *court.routes,
            *court_api.routes,
            *court_admin.routes,
            *warnings.routes,  # before governance's /governance/{view}
            *governance.routes,
        ],
        middleware=[
            *proxy_headers(settings),
            Middleware(AccessLog),
            Middleware(SecurityHeaders, https=settings.https),
            Middleware(BodyLimit),
            Middleware(
                WebSocketOrigin,
                allowed={origin_of(settings.base_url), *map(origin_of, settings.allowed_origins)},
            ),
            Middleware(
                SessionMiddleware,
                secret_key=settings.secret_key,
                session_cookie="mediation_session",
                max_age=12 * 3600,
                same_site="lax",
                https_only=settings.secure_cookies,
            ),
        ],
        exception_handlers={
            CaseError: case_error,
            TransitionError: transition_error,
            HTTPException: http_error,
        },
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.notifier = notifier
    # Single partner filings arriving together are filed together (cases.partners.gathering).
    app.state.filing_gathering = FilingGathering()
    return app
