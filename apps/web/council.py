"""The council's pages, `/officer/khen-thuong/…`, behind the officer's login and CSRF
(`apps.web.officer`): every proposal of a cycle with its state, a meeting opened with
the members present, a decision with its vote per proposal, the documents (biên bản,
Quyết định, Tờ trình) to download, and the register of awards decided with a form to
enter an award decided outside thidua.  Included before the officer's router,
whose `/officer/{cycle}/{unit}` would otherwise take these addresses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from apps.web.officer import Officer, checked_form, csrf_token, to
from apps.web.site import Site, WebError, site
from pipeline import awards, register
from thidua.awards import council_members
from thidua.errors import ThiduaError
from thidua.register import ENTRY_COLUMNS, check_entry

router = APIRouter(prefix="/officer/khen-thuong", dependencies=[Officer])
SiteDep = Annotated[Site, Depends(site)]
DOCUMENTS = {"bien-ban": "bien-ban", "quyet-dinh": "quyet-dinh", "to-trinh": "to-trinh"}


def _cycle(s: Site, cycle: str) -> None:
    if cycle not in s.ws.config.cycles_by_id:
        raise WebError(404, "Không có kỳ báo cáo này", f"Mã kỳ: {cycle}")


async def _page(
    request: Request,
    s: Site,
    cycle: str,
    meeting_id: int | None,
    status: int = 200,
    **ctx: object,
) -> HTMLResponse:
    """The cycle's proposals, each beside its unit's standing in the cycle (lateness,
    data quality, block score) and its subject's earlier awards; with a meeting, its
    decision forms and documents."""
    _cycle(s, cycle)
    rows = await run_in_threadpool(awards.proposals, s.ws, cycle)
    standing = await run_in_threadpool(awards.standing, s.ws, cycle)
    meeting = None
    if meeting_id is not None:
        try:
            meeting = await run_in_threadpool(awards.meeting, s.ws, meeting_id)
        except ThiduaError:
            raise WebError(404, "Không có phiên họp này", f"Số: {meeting_id}") from None
    return s.page(
        request,
        "council.html",
        status,
        cycle=s.ws.config.cycle(cycle),
        rows=rows,
        standing=standing,
        meeting=meeting,
        members=council_members(s.ws.config.directory),
        csrf=csrf_token(request),
        prefect_ui=s.prefect_ui,
        **({"refused": None} | ctx),
    )


@router.get("/{cycle}", response_class=HTMLResponse)
async def council_cycle(request: Request, s: SiteDep, cycle: str) -> HTMLResponse:
    return await _page(request, s, cycle, None)


@router.post("/{cycle}/hop", response_class=HTMLResponse, response_model=None)
async def council_open(request: Request, s: SiteDep, cycle: str) -> HTMLResponse | RedirectResponse:
    _cycle(s, cycle)
    form = await request.form(max_fields=40, max_files=0)
    await checked_form(request)
    present = [str(v) for v in form.getlist("present")]
    try:
        day = datetime.strptime(str(form.get("held_on", "")), "%d/%m/%Y").date()
        m = await run_in_threadpool(awards.open_meeting, s.ws, cycle, day, present, "officer")
    except (ValueError, ThiduaError) as exc:
        why = str(exc) if isinstance(exc, ThiduaError) else "ngày họp theo dạng dd/mm/yyyy"
        return await _page(request, s, cycle, None, 400, refused=why)
    return to(request, f"/officer/khen-thuong/{cycle}/hop/{m['id']}")


@router.get("/{cycle}/hop/{meeting_id}", response_class=HTMLResponse)
async def council_meeting(
    request: Request, s: SiteDep, cycle: str, meeting_id: int
) -> HTMLResponse:
    return await _page(request, s, cycle, meeting_id)


@router.post("/{cycle}/hop/{meeting_id}/quyet", response_class=HTMLResponse, response_model=None)
async def council_decide(
    request: Request, s: SiteDep, cycle: str, meeting_id: int
) -> HTMLResponse | RedirectResponse:
    form = await checked_form(request)
    try:
        votes = int(str(form.get("votes", "")))
        await run_in_threadpool(
            awards.decide,
            s.ws,
            meeting_id,
            [str(form.get("id", ""))],
            form.get("action") == "approve",
            votes,
            str(form.get("note", "")),
            "officer",
        )
    except (ValueError, ThiduaError) as exc:
        why = str(exc) if isinstance(exc, ThiduaError) else "số phiếu đồng ý là một số"
        return await _page(request, s, cycle, meeting_id, 400, refused=why)
    return to(request, f"/officer/khen-thuong/{cycle}/hop/{meeting_id}")


@router.get("/{cycle}/hop/{meeting_id}/{name}.docx")
async def council_document(s: SiteDep, cycle: str, meeting_id: int, name: str) -> FileResponse:
    """A document written from the decisions as they stand now."""
    _cycle(s, cycle)
    today = s.ws.config.settings.calendar.today()
    try:
        files = await run_in_threadpool(awards.documents, s.ws, cycle, today, meeting_id)
    except ThiduaError:
        raise WebError(404, "Không có phiên họp này", f"Số: {meeting_id}") from None
    if name not in DOCUMENTS or name not in files:
        raise WebError(
            404, "Chưa có văn bản này", "Hội đồng chưa đồng ý đề nghị nào cho văn bản này."
        )
    return FileResponse(files[name], filename=f"{name}-{cycle}.docx")


REGISTER_FIELDS = tuple(k for k, _ in ENTRY_COLUMNS if k != "row_no")


async def _register_page(
    request: Request, s: Site, cycle: str, status: int = 200, **ctx: object
) -> HTMLResponse:
    """The register of awards decided, and the form to enter one decided outside thidua."""
    _cycle(s, cycle)
    return s.page(
        request,
        "register.html",
        status,
        cycle=s.ws.config.cycle(cycle),
        rows=await run_in_threadpool(register.entries, s.ws),
        columns=dict(ENTRY_COLUMNS[1:]),
        forms=list(s.ws.config.reward_forms.values()),
        csrf=csrf_token(request),
        prefect_ui=s.prefect_ui,
        **({"refused": None} | ctx),
    )


@router.get("/{cycle}/so", response_class=HTMLResponse)
async def register_list(request: Request, s: SiteDep, cycle: str) -> HTMLResponse:
    return await _register_page(request, s, cycle)


@router.post("/{cycle}/so", response_class=HTMLResponse, response_model=None)
async def register_add(request: Request, s: SiteDep, cycle: str) -> HTMLResponse | RedirectResponse:
    """An award decided outside thidua, checked like a row of the danh sách."""
    _cycle(s, cycle)
    await request.form(max_fields=20, max_files=0)
    form = await checked_form(request)
    raw = {k: str(form.get(k, "")) for k in REGISTER_FIELDS}
    try:
        entry = check_entry(s.ws.config, raw, "Khen thưởng nhập tay")
        await run_in_threadpool(register.add, s.ws, [entry], "officer")
    except ThiduaError as exc:
        return await _register_page(request, s, cycle, 400, refused=str(exc))
    return to(request, f"/officer/khen-thuong/{cycle}/so")
