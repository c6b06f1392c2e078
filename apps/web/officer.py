"""The officer's pages, `/officer…`: a session cookie signed with the site's key
(Starlette's SessionMiddleware), set by the login (the password checked against the
scrypt hash of `[web] officer_password_hash`); every page but the login needs it
(`logged_in`, a dependency), every form carries the session's CSRF token."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from apps.web.guards import FORM_EXPIRED, same_token
from apps.web.site import Site, WebError, site
from pipeline.review import decide, matrix, unit_view
from thidua import words
from thidua.config import Cycle, Unit
from thidua.errors import ThiduaError
from thidua.passwords import verify_password
from thidua.review import ReviewRefused

router = APIRouter(prefix="/officer")
SiteDep = Annotated[Site, Depends(site)]
FILTERS = {  # the matrix's filters: address word → review state (None: nothing sent)
    "chua-nop": None,
    "co-loi": "has_issues",
    "cho-duyet": "received",
    "da-duyet": "approved",
    "tra-lai": "returned",
    "khong-chap-nhan": "rejected",
}
FILTER_VI = {slug: words.REVIEW_STATE[state].capitalize() for slug, state in FILTERS.items()}


class LoginRequired(Exception):
    "The page needs the officer's session: the app's handler sends the login page"


def logged_in(request: Request) -> None:
    if not request.session.get("officer"):
        raise LoginRequired


Officer = Depends(logged_in)


def to(request: Request, path: str) -> RedirectResponse:
    """A redirect inside this site, under its prefix when it serves one of many tenants."""
    return RedirectResponse(request.scope.get("root_path", "") + path, status_code=303)


def to_login(request: Request) -> RedirectResponse:
    return to(request, "/officer/login")


def csrf_token(request: Request) -> str:
    if "csrf" not in request.session:
        request.session["csrf"] = secrets.token_urlsafe(24)
    return request.session["csrf"]


async def checked_form(request: Request) -> FormData:
    """The posted form when its CSRF field is the session's token; 403 otherwise."""
    form = await request.form(max_fields=10, max_files=0)
    if not same_token(form.get("csrf"), request.session.get("csrf", "")):
        raise FORM_EXPIRED
    return form


def unit_and_cycle(s: Site, unit: str, cycle: str) -> tuple[Unit, Cycle]:
    try:
        return s.ws.config.unit(unit), s.ws.config.cycle(cycle)
    except ThiduaError:
        raise WebError(404, "Không tìm thấy", f"{unit} / {cycle}") from None


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, s: SiteDep) -> HTMLResponse:
    return s.page(request, "login.html", csrf=csrf_token(request), failed=False)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, s: SiteDep) -> Response:
    client = request.client.host if request.client else "?"
    if not request.app.state.login_bucket.allow(client):
        raise WebError(429, "Quá nhiều lần đăng nhập", "Vui lòng đợi rồi thử lại.")
    form = await checked_form(request)
    stored = s.web.officer_password_hash
    ok = stored is not None and await run_in_threadpool(
        verify_password, str(form.get("password", "")), stored.get_secret_value()
    )
    if not ok:
        return s.page(request, "login.html", 401, csrf=csrf_token(request), failed=True)
    request.session.clear()
    request.session.update({"officer": True, "csrf": secrets.token_urlsafe(24)})
    return to(request, "/officer")


@router.post("/logout")
async def logout(request: Request) -> RedirectResponse:
    if request.session.get("officer"):
        await checked_form(request)
    request.session.clear()
    return to_login(request)


@router.get("", response_class=HTMLResponse, dependencies=[Officer])
async def officer_matrix(
    request: Request, s: SiteDep, cycle: str | None = None, filter: str | None = None
) -> HTMLResponse:
    cycles = s.ws.config.cycles
    if cycle is None:  # the open cycle due soonest, else the last
        today = s.ws.config.settings.calendar.today()
        due = [c for c in cycles if c.due >= today]
        cycle = (min(due, key=lambda c: c.due) if due else cycles[-1]).id
    if cycle not in s.ws.config.cycles_by_id:
        raise WebError(404, "Không có kỳ báo cáo này", f"Mã kỳ: {cycle}")
    rows = await run_in_threadpool(matrix, s.ws, cycle)
    counts = {f: sum(1 for r in rows if r["review"] == state) for f, state in FILTERS.items()}
    shown = rows if filter not in FILTERS else [r for r in rows if r["review"] == FILTERS[filter]]
    return s.page(
        request,
        "officer_matrix.html",
        cycles=cycles,
        cycle=s.ws.config.cycle(cycle),
        rows=shown,
        total=len(rows),
        counts=counts,
        filters=FILTER_VI,
        current=filter,
        csrf=csrf_token(request),
        prefect_ui=s.prefect_ui,
    )


async def unit_page(
    request: Request, s: Site, unit: str, cycle: str, status: int = 200, **ctx: object
) -> HTMLResponse:
    """A unit's versions, problems and review log, with the decision form."""
    u, c = unit_and_cycle(s, unit, cycle)
    view = await run_in_threadpool(unit_view, s.ws, unit, cycle)
    ctx = {"done": None, "refused": None} | ctx
    return s.page(
        request,
        "officer_unit.html",
        status,
        unit=u,
        cycle=c,
        view=view,
        csrf=csrf_token(request),
        prefect_ui=s.prefect_ui,
        **ctx,
    )


@router.get("/{cycle}/{unit}", response_class=HTMLResponse, dependencies=[Officer])
async def officer_unit(
    request: Request, s: SiteDep, cycle: str, unit: str, done: str | None = None
) -> HTMLResponse:
    return await unit_page(request, s, unit, cycle, done=done)


@router.post("/{cycle}/{unit}/decide", response_class=HTMLResponse, dependencies=[Officer])
async def officer_decide(request: Request, s: SiteDep, cycle: str, unit: str) -> Response:
    form = await checked_form(request)
    unit_and_cycle(s, unit, cycle)
    action = str(form.get("action"))
    try:
        await run_in_threadpool(
            decide, s.ws, unit, cycle, action, "officer", str(form.get("comment", ""))
        )
    except ThiduaError as exc:  # ReviewRefused, ReviewConflict: the page says why
        status = 400 if isinstance(exc, ReviewRefused) else 409
        return await unit_page(request, s, unit, cycle, status, refused=str(exc))
    return to(request, f"/officer/{cycle}/{unit}?done={action}")
