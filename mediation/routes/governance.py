"""The district's figures (issue 13): the governance dashboard (volume, where disputes come
from, the funnel, time limits met, mediators' workload, merchants' scorecards), the
anonymised cases behind every figure, every table as CSV and XLSX, and the public
statistics page (suppressed).

Who sees what: district governance staff and platform admins see the whole district; an
organisation's admin sees the same pages forced to their own organisation; nobody else (a
party, a mediator, a merchant, a partner's admin) sees them. Every view is logged
(`cases.governance.actions.log_figure_view`). Nothing shown reads a party.

Thin: parse the filter, log the view, ask the figures, render.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cases.accounts.models import Organisation, PartnerPlatform, Role, Track, User
from cases.analytics import figures
from cases.analytics.figures import Dimension, FigureFilter, Grain
from cases.categories import CATEGORIES, Domain
from cases.clock import local_date, utcnow
from cases.governance.actions import figure_views, log_figure_view
from cases.governance.models import Audience
from cases.negotiation.models import Merchant
from mediation import figures_view as fv
from mediation.exports import CSV_TYPE, XLSX_TYPE, filename, to_csv, to_xlsx
from mediation.routes.partner_api import api_error, partner_of
from mediation.routing_view import TRACK_LABELS
from mediation.web import error_page, gettext, load_user, locale_of, render, signed_in

DASHBOARD_ROLES = (Role.GOVERNANCE, Role.PLATFORM_ADMIN, Role.ORG_ADMIN)
VIEW_KEYS = {key for key, _ in fv.VIEWS}
RANKED_BY = (
    Dimension.MERCHANT,
    Dimension.PLATFORM,
    Dimension.CATEGORY,
    Dimension.DOMAIN,
    Dimension.RESPONDENT_KIND,
    Dimension.DISTRICT,
    Dimension.ORGANISATION,
)


def _audience(user: User) -> Audience:
    return Audience.ORGANISATION if user.role == Role.ORG_ADMIN else Audience.GOVERNANCE


def _forced_organisation(user: User) -> int | None:
    """An organisation admin sees their own organisation only (none: no figures at all)."""
    if user.role == Role.ORG_ADMIN:
        return user.organisation_id if user.organisation_id is not None else -1
    return None


def _filter_of(request: Request, user: User) -> FigureFilter:
    return fv.read_filter(
        request.query_params,
        local_date(utcnow()),
        organisation_id=_forced_organisation(user),
    )


async def _names() -> dict[str, dict[int, str]]:
    organisations = await Organisation.all().order_by("name").values_list("id", "name")
    partners = await PartnerPlatform.all().order_by("name").values_list("id", "name")
    return {
        "organisations": {int(i): str(n) for i, n in organisations},
        "partners": {int(i): str(n) for i, n in partners},
    }


async def panels_of(
    view: str, f: FigureFilter, choices: fv.Choices, request: Request
) -> list[fv.Panel]:
    """The panels of one view of the dashboard, from the figures."""
    locale = locale_of(request)

    def say(message: str) -> str:
        return gettext(request, message)

    if view == "volume":
        grain = fv.fitting_grain(f, choices.grain)
        points = await figures.volume(f, grain, choices.by)
        panels = [fv.volume_panel(points, f, grain, choices.by, say, locale)]
        if choices.by is not None:
            panels.append(fv.volume_totals_panel(points, f, choices.by, say))
        return panels
    if view == "ranking":
        by = choices.by or Dimension.MERCHANT
        order: Literal["count", "growth"] = "growth" if choices.order == "growth" else "count"
        rows = await figures.ranking(f, by, order=order, limit=15)
        return [fv.ranking_panel(rows, f, by, order, say)]
    if view == "funnel":
        return [fv.funnel_panel(await figures.funnel(f), f, say)]
    organisations = {name: i for i, name in (await _names())["organisations"].items()}
    if view == "compliance":
        rows_c = await figures.deadline_compliance(f)
        return [fv.compliance_panel(rows_c, f, say, organisations)]
    if view == "workload":
        return [fv.workload_panel(await figures.workload(f), f, say, organisations)]
    return [fv.scorecards_panel(await figures.scorecards(f, limit=20), f, say)]


async def _context(
    request: Request, user: User, f: FigureFilter, view: str, choices: fv.Choices
) -> dict[str, Any]:
    names = await _names()
    if f.merchant_id is not None:
        merchant = await Merchant.get_or_none(id=f.merchant_id).values_list("name", flat=True)
        names["merchants"] = {f.merchant_id: str(merchant or f"#{f.merchant_id}")}

    def say(message: str) -> str:
        return gettext(request, message)

    return {
        "f": f,
        "q": fv.filter_query(f),
        "filter_words": fv.filter_words(f, names, say, locale_of(request)),
        "names": names,
        "forced": user.role == Role.ORG_ADMIN,
        "views": fv.VIEWS,
        "domains": [(d.value, fv.DOMAIN_LABELS[d]) for d in Domain],
        "all_categories": CATEGORIES,
        "tracks": [(t.value, TRACK_LABELS[t.value]) for t in Track],
        "grains": list(fv.GRAIN_LABELS.items()),
        "dimensions": list(fv.DIMENSION_LABELS.items()),
        "ranked_by": [(d, fv.DIMENSION_LABELS[d]) for d in RANKED_BY],
        "orders": list(fv.ORDER_LABELS.items()),
        "link": fv.link,
        "without_merchant": fv.link(f"/governance/{view}", replace(f, merchant_id=None)),
        "downloads": {
            kind: fv.link(
                f"/governance/{view}.{kind}",
                f,
                grain=choices.grain.value,
                by=choices.by.value if choices.by else None,
                order=choices.order,
            )
            for kind in ("csv", "xlsx")
        },
    }


def _log_filters(f: FigureFilter, choices: fv.Choices, **more: Any) -> dict[str, Any]:
    return fv.filter_query(
        f,
        grain=choices.grain.value,
        by=choices.by.value if choices.by else None,
        order=choices.order,
        **more,
    )


@signed_in(*DASHBOARD_ROLES)
async def home(request: Request) -> Response:
    return await _view(request, "volume")


@signed_in(*DASHBOARD_ROLES)
async def view(request: Request) -> Response:
    name = request.path_params["view"]
    if name not in VIEW_KEYS:
        return error_page(request, "not_found", 404)
    return await _view(request, name)


async def _view(request: Request, name: str) -> Response:
    user: User = request.state.user
    f = _filter_of(request, user)
    choices = fv.read_choices(request.query_params)
    await log_figure_view(user, _audience(user), name, _log_filters(f, choices), utcnow())
    panels = await panels_of(name, f, choices, request)
    return render(
        request,
        "governance/dashboard.html",
        {
            "view": name,
            "title": fv.VIEW_TITLES[name],
            "panels": panels,
            "choices": choices,
            **await _context(request, user, f, name, choices),
        },
    )


@signed_in(*DASHBOARD_ROLES)
async def export(request: Request) -> Response:
    user: User = request.state.user
    name, kind = request.path_params["view"], request.path_params["kind"]
    if kind not in ("csv", "xlsx") or name not in VIEW_KEYS | {"cases"}:
        return error_page(request, "not_found", 404)
    f = _filter_of(request, user)
    choices = fv.read_choices(request.query_params)
    await log_figure_view(
        user, _audience(user), "export", _log_filters(f, choices, view=name, format=kind), utcnow()
    )
    if name == "cases":
        found, _ = await figures.cases_behind(
            f,
            dimension=choices.dimension,
            key=choices.key,
            stage=choices.stage,
            page=choices.page,
            per_page=1000,
        )
        tables = [fv.cases_table(found, lambda m: gettext(request, m))]
    else:
        tables = [panel.table for panel in await panels_of(name, f, choices, request)]
    today = local_date(utcnow())
    if kind == "csv":
        wanted = request.query_params.get("table")
        table = next((t for t in tables if t.title == wanted), tables[0])
        body, media = to_csv(table), CSV_TYPE
    else:
        body, media = to_xlsx(tables), XLSX_TYPE
    return Response(
        body,
        media_type=media,
        headers={"content-disposition": f'attachment; filename="{filename(name, today, kind)}"'},
    )


@signed_in(*DASHBOARD_ROLES)
async def cases(request: Request) -> Response:
    user: User = request.state.user
    f = _filter_of(request, user)
    choices = fv.read_choices(request.query_params)
    await log_figure_view(
        user,
        _audience(user),
        "cases",
        _log_filters(
            f,
            choices,
            dimension=choices.dimension.value if choices.dimension else None,
            key=choices.key,
            stage=choices.stage,
            page=choices.page,
        ),
        utcnow(),
    )
    found, total = await figures.cases_behind(
        f,
        dimension=choices.dimension,
        key=choices.key,
        stage=choices.stage,
        page=choices.page,
        per_page=fv.PER_PAGE,
    )
    pages = max(1, -(-total // fv.PER_PAGE))
    more = {
        "dimension": choices.dimension.value if choices.dimension else None,
        "key": fv.NO_KEY if choices.key == "" else choices.key,
        "stage": choices.stage,
    }
    return render(
        request,
        "governance/cases.html",
        {
            "view": "cases",
            "title": fv.N_("Cases behind the figure"),
            "table": fv.cases_table(found, lambda m: gettext(request, m)),
            "total": total,
            "page": choices.page,
            "pages": pages,
            "more": more,
            "dimension_label": fv.DIMENSION_LABELS.get(choices.dimension)
            if choices.dimension
            else None,
            "choices": choices,
            **await _context(request, user, f, "cases", choices),
        },
    )


# --- the view log ---------------------------------------------------------------------------

AUDIENCE_LABELS = {
    Audience.GOVERNANCE: fv.N_("District"),
    Audience.ORGANISATION: fv.N_("Organisation"),
    Audience.PARTNER: fv.N_("Partner platform (API)"),
    Audience.PUBLIC: fv.N_("Public"),
}


@signed_in(Role.PLATFORM_ADMIN, Role.GOVERNANCE)
async def view_log(request: Request) -> Response:
    """Who looked at which figures, with which filter, and when (the latest 200)."""
    rows = [
        {
            "at": v.viewed_at,
            "who": v.user.display_name
            if v.user is not None
            else v.partner.name
            if v.partner is not None
            else "",
            "username": v.user.username if v.user is not None else "",
            "audience": AUDIENCE_LABELS[Audience(v.audience)],
            "view": v.view,
            "filters": " ".join(f"{k}={value}" for k, value in sorted(v.filters.items())),
        }
        for v in await figure_views(200)
    ]
    return render(request, "governance/log.html", {"rows": rows})


# --- a partner's own figures through the API ----------------------------------------------


def read_api_query(query: Any, today: date) -> tuple[FigureFilter, Grain, Dimension | None] | None:
    """The API's query (its description: dates as YYYY-MM-DD, a grain, a dimension), or
    None when a value is not valid (400). A valid period is made to fit as the page's is."""
    for name in ("start", "end"):
        if name in query and fv.read_date(query[name]) is None:
            return None
    grain, by = query.get("grain", Grain.WEEK.value), query.get("by")
    if grain not in {g.value for g in Grain} or (
        by is not None and by not in {d.value for d in Dimension}
    ):
        return None
    f = fv.read_filter({k: query[k] for k in ("start", "end") if k in query}, today)
    return f, Grain(grain), Dimension(by) if by is not None else None


async def figures_api(request: Request) -> Response:
    partner = await partner_of(request)
    read = read_api_query(request.query_params, local_date(utcnow()))
    if read is None:
        return api_error(request, "invalid_input", 400)
    f, grain, by = read
    f = replace(f, partner_id=partner.id)
    await log_figure_view(
        None,
        Audience.PARTNER,
        "api",
        fv.filter_query(f, grain=grain.value, by=by.value if by else None),
        utcnow(),
        partner_id=partner.id,
    )
    points = await figures.volume(f, grain, by)
    steps = await figures.funnel(f)
    assert f.start is not None and f.end is not None
    return JSONResponse(
        {
            "start": f.start.isoformat(),
            "end": f.end.isoformat(),
            "grain": grain.value,
            "by": by.value if by else None,
            "volume": [
                {"period": p.period.isoformat(), "key": p.key, "label": p.label, "count": p.count}
                for p in points
            ],
            "funnel": [
                {
                    "stage": s.stage,
                    "label": s.label,
                    "count": s.count,
                    "rate": s.rate,
                    "median_days": s.median_days,
                }
                for s in steps
            ],
        }
    )


# --- the public statistics page ------------------------------------------------------------


async def statistics(request: Request) -> Response:
    from mediation.statistics_view import public_figures

    user = await load_user(request)
    today = local_date(utcnow())
    f = FigureFilter(start=date_months_back(today, 12), end=today)
    await log_figure_view(user, Audience.PUBLIC, "statistics", fv.filter_query(f), utcnow())
    figures_shown = await public_figures(f, lambda m: gettext(request, m), locale_of(request))
    return render(request, "public/statistics.html", {"figures": figures_shown})


def date_months_back(today: date, months: int) -> date:
    """The first day of the month `months - 1` months before today's (12: a year of months,
    this one included)."""
    year, month = today.year, today.month - (months - 1)
    while month < 1:
        month += 12
        year -= 1
    return today.replace(year=year, month=month, day=1)


routes = [
    Route("/governance", home),
    Route("/governance/cases", cases),
    Route("/governance/log", view_log),
    Route("/governance/{view:str}.{kind:str}", export),
    Route("/governance/{view:str}", view),
    Route("/statistics", statistics),
    Route("/api/v1/figures", figures_api, methods=["GET"]),
]
