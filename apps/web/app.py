"""The web app: each unit's upload page (reached by its signed link) and the officer's
review pages (login).  FastAPI, Jinja2 templates in Vietnamese, served by uvicorn
(`thidua web`).  Every action calls `pipeline.review`, the module behind the CLI.

Safety, route by route:
- `/u/{token}…`: only a token that verifies (itsdangerous, `[web] secret_key`) and
  names a live `upload_links` row reaches a unit's page, and the page shows that unit
  only; tampered → 403, revoked or expired → 410.  Each token has a token bucket
  (in-memory, per process: `RATE_BURST` requests, one more every `RATE_EVERY` s).
- `/officer…`: a session cookie signed with the same key (Starlette's SessionMiddleware,
  itsdangerous), set by the login (password checked against the scrypt hash of
  `[web] officer_password_hash`); every form carries the session's CSRF token.
- Uploads: Content-Length and the streamed bytes are capped at `[web] max_upload_mb`
  (413 beyond); the part must be declared as xlsx (or octet-stream) *and* be a zip
  (415 otherwise); the file is collected under its sha256 (the take-in), never its name.
  The plan cycle's optional plan document gets the same cap (per file) and checks:
  declared docx, pdf or octet-stream, and a docx a zip, a pdf starting with `%PDF`.
- Every response carries a strict Content-Security-Policy, no-referrer (the token is
  in the address) and nosniff.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import threading
import time
from contextlib import asynccontextmanager
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware

from pipeline import review
from thidua import layout, links
from thidua.errors import ThiduaError
from thidua.passwords import verify_password
from thidua.review import STATE_VI, ReviewRefused
from thidua.rules import fmt
from thidua.workspace import Workspace

HERE = Path(__file__).resolve().parent
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_TYPES = {XLSX_TYPE, "application/octet-stream"}
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# the plan document: declared type → (suffix it is stored under, its magic bytes)
DOCUMENT_KINDS = {".docx": (DOCX_TYPE, b"PK\x03\x04"), ".pdf": ("application/pdf", b"%PDF")}
RATE_BURST = 30  # requests per token at once …
RATE_EVERY = 2.0  # … then one every 2 s
MULTIPART_SLACK = 64 * 1024  # form boundaries and headers around the file
SESSION_HOURS = 8
FILTERS = {
    "chua-nop": None,
    "co-loi": "has_issues",
    "cho-duyet": "received",
    "da-duyet": "approved",
    "tra-lai": "returned",
    "khong-chap-nhan": "rejected",
}
FILTER_VI = {
    "chua-nop": "Chưa nộp",
    "co-loi": "Có lỗi",
    "cho-duyet": "Chờ duyệt",
    "da-duyet": "Đã duyệt",
    "tra-lai": "Trả lại",
    "khong-chap-nhan": "Không chấp nhận",
}
OUTCOME_VI = {
    "accepted": "hợp lệ",
    "accepted_with_warnings": "hợp lệ, có cảnh báo",
    "rejected": "có lỗi, chưa được tiếp nhận",
    "unreadable": "không đọc được",
    "duplicate": "trùng với tệp đã nộp",
    "missing": "chưa nộp",
}


class TokenBucket:
    """Per-key token bucket kept in memory (one process; restarts forget it)."""

    def __init__(self, burst: int = RATE_BURST, every: float = RATE_EVERY) -> None:
        self.burst, self.every = burst, every
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._state.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) / self.every)
            if tokens < 1:
                self._state[key] = (tokens, now)
                return False
            self._state[key] = (tokens - 1, now)
            return True


def create_app(ws: Workspace, prefect_ui: str | None = None) -> FastAPI:
    """The app on this workspace; WebNotConfigured without `[web] secret_key`."""
    settings = ws.config.settings
    web = settings.web
    key = links.secret(web)
    tz = settings.calendar.tz
    max_bytes = int(web.max_upload_mb * 2**20)
    prefect_ui = prefect_ui or os.environ.get("PREFECT_UI_URL", "http://127.0.0.1:4200")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        """Batched uploads: the upload queue's thread starts, warms GX up and starts the
        parsing worker before the first request (uvicorn; TestClient only when used as
        a context manager).  Without it, each upload is collected alone."""
        uploads = None
        if web.uploads == "batched":
            uploads = review.UploadQueue(ws)
            warm = await run_in_threadpool(uploads.start)
            logging.getLogger("uvicorn.error").info(
                "uploads batched; warm-up: imports %.2f s, dry run %.2f s",
                warm["imports"],
                warm["dry_run"],
            )
        app.state.uploads = uploads
        try:
            yield
        finally:
            if uploads is not None:
                await run_in_threadpool(uploads.stop)

    app = FastAPI(
        title="thidua", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.state.uploads = None
    app.add_middleware(
        SessionMiddleware,
        secret_key=key,
        session_cookie="thidua_officer",
        max_age=SESSION_HOURS * 3600,
        same_site="strict",
        https_only=web.base_url.startswith("https"),
    )
    app.state.buckets = TokenBucket()
    app.state.login_bucket = TokenBucket(burst=10, every=6.0)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    env = templates.env
    env.filters["d"] = lambda v: v.strftime("%d/%m/%Y") if isinstance(v, date) else ""
    env.filters["dt"] = lambda v: (
        v.astimezone(tz).strftime("%d/%m/%Y %H:%M") if isinstance(v, datetime) else ""
    )
    env.filters["so"] = fmt  # 1.234,5: numbers the Vietnamese way
    # a sheet by the title its tab shows ("Chỉ tiêu"), as the acknowledgment names it
    env.filters["trang"] = lambda s: layout.SHEET_TITLES.get(s, s) if s else ""
    env.globals.update(
        STATE_VI=STATE_VI,
        OUTCOME_VI=OUTCOME_VI,
        sender=settings.sender,
        commune=settings.commune,
        blocks=settings.blocks,
    )

    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    def page(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, name, ctx, status_code=status)

    def error(request: Request, status: int, title: str, message: str) -> HTMLResponse:
        return page(request, "error.html", status, title=title, message=message)

    # -- the unit ----------------------------------------------------------------------

    def unit_csrf(claim: links.LinkClaim) -> str:
        return hmac.new(key.encode(), f"csrf/{claim.link_id}".encode(), "sha256").hexdigest()

    async def claim_of(request: Request, token: str) -> links.LinkClaim | HTMLResponse:
        if not app.state.buckets.allow(token):
            return error(
                request,
                429,
                "Quá nhiều yêu cầu",
                "Đơn vị gửi quá nhiều yêu cầu trong thời gian ngắn. Vui lòng đợi "
                "một phút rồi thử lại.",
            )
        try:
            return await run_in_threadpool(review.open_link, ws, token)
        except review.Tampered:
            return error(
                request,
                403,
                "Đường dẫn không hợp lệ",
                "Đường dẫn này không đúng hoặc đã bị sửa. Vui lòng dùng đúng đường "
                "dẫn trong thư nhắc của đơn vị, hoặc liên hệ để được cấp lại.",
            )
        except review.Revoked:
            return error(
                request,
                410,
                "Đường dẫn đã bị thu hồi",
                "Đường dẫn nộp báo cáo này đã bị thu hồi. Vui lòng liên hệ để được "
                "cấp đường dẫn mới.",
            )
        except review.Expired:
            return error(
                request,
                410,
                "Đường dẫn đã hết hạn",
                "Đường dẫn nộp báo cáo này đã hết hạn. Vui lòng liên hệ để được cấp đường dẫn mới.",
            )

    async def unit_page(
        request: Request,
        token: str,
        claim: links.LinkClaim,
        result: review.Uploaded | None = None,
        status: int = 200,
        upload_error: str | None = None,
        view: dict | None = None,
    ) -> HTMLResponse:
        if view is None:
            view = await run_in_threadpool(review.unit_view, ws, claim.unit, claim.cycle)
        return page(
            request,
            "unit.html",
            status,
            token=token,
            unit=ws.config.unit(claim.unit),
            cycle=ws.config.cycle(claim.cycle),
            view=view,
            result=result,
            upload_error=upload_error,
            csrf=unit_csrf(claim),
            max_mb=web.max_upload_mb,
            plan_cycle=plan_cycle(claim),
        )

    @app.get("/u/{token}", response_class=HTMLResponse)
    async def unit_home(request: Request, token: str):
        claim = await claim_of(request, token)
        if isinstance(claim, Response):
            return claim
        return await unit_page(request, token, claim)

    @app.get("/u/{token}/template")
    async def unit_template(request: Request, token: str):
        from thidua.template import build_workbook, template_filename

        claim = await claim_of(request, token)
        if isinstance(claim, Response):
            return claim
        unit, cycle = ws.config.unit(claim.unit), ws.config.cycle(claim.cycle)
        data = await run_in_threadpool(build_workbook, ws.config, unit, cycle)
        return Response(
            data,
            media_type=XLSX_TYPE,
            headers={
                "Content-Disposition": f'attachment; filename="{template_filename(unit, cycle)}"'
            },
        )

    @app.post("/u/{token}/upload", response_class=HTMLResponse)
    async def unit_upload(request: Request, token: str):
        claim = await claim_of(request, token)
        if isinstance(claim, Response):
            return claim
        too_big = (
            f"Tệp vượt quá {fmt(web.max_upload_mb)} MB. Vui lòng kiểm tra lại tệp "
            "(chỉ một biểu mẫu Excel .xlsx)."
        )
        # the plan cycle takes the plan document too: each file under the same cap
        limit = max_bytes * (2 if plan_cycle(claim) else 1) + MULTIPART_SLACK
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            return await unit_page(request, token, claim, status=413, upload_error=too_big)
        body, size = [], 0
        async for chunk in request.stream():  # counted while it streams in
            size += len(chunk)
            if size > limit:
                return await unit_page(request, token, claim, status=413, upload_error=too_big)
            body.append(chunk)
        request._body = b"".join(body)  # the form parser reads it from here
        form = await request.form(max_files=2, max_fields=4)
        if not hmac.compare_digest(str(form.get("csrf", "")), unit_csrf(claim)):
            return error(
                request, 403, "Biểu mẫu hết hạn", "Vui lòng tải lại trang rồi gửi lại tệp."
            )
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            return await unit_page(
                request, token, claim, status=400, upload_error="Chưa chọn tệp để nộp."
            )
        data = await upload.read()
        plan = form.get("plan")  # optional; a browser sends an empty part if unset
        plan_data = b"" if plan is None or isinstance(plan, str) else await plan.read()
        await form.close()
        document = None
        if plan_data:
            document = document_kind(plan.content_type, plan_data)
            if len(plan_data) > max_bytes:
                return await unit_page(
                    request,
                    token,
                    claim,
                    status=413,
                    upload_error=(f"Văn bản kế hoạch vượt quá {fmt(web.max_upload_mb)} MB."),
                )
            if document is None:
                return await unit_page(
                    request,
                    token,
                    claim,
                    status=415,
                    upload_error=("Văn bản kế hoạch phải là tệp Word (.docx) hoặc PDF (.pdf)."),
                )
        if len(data) > max_bytes:
            return await unit_page(request, token, claim, status=413, upload_error=too_big)
        if upload.content_type not in XLSX_TYPES or not data.startswith(b"PK\x03\x04"):
            return await unit_page(
                request,
                token,
                claim,
                status=415,
                upload_error=(
                    "Chỉ nhận biểu mẫu Excel (.xlsx). Vui lòng tải biểu mẫu trên trang này, "
                    "điền số liệu và nộp lại."
                ),
            )
        # batched with the uploads waiting (the queue), else alone; either way the
        # page's history is read with the outcome, not queued for again
        uploads = app.state.uploads
        try:
            result = await run_in_threadpool(
                uploads.upload if uploads else partial(review.upload, ws, view=True),
                claim.unit,
                claim.cycle,
                data,
                document=document and (document, plan_data),
            )
        except review.WrongFile as exc:
            return await unit_page(request, token, claim, status=422, upload_error=str(exc))
        return await unit_page(request, token, claim, result=result, view=result.view)

    def plan_cycle(claim: links.LinkClaim) -> bool:
        return ws.config.cycle(claim.cycle).kind == "ke_hoach"

    def document_kind(content_type: str | None, data: bytes) -> str | None:
        """`.docx` or `.pdf` when the declared type and the first bytes agree, else None."""
        for suffix, (declared, magic) in DOCUMENT_KINDS.items():
            if content_type in (declared, "application/octet-stream") and data.startswith(magic):
                return suffix
        return None

    # -- the officer -------------------------------------------------------------------

    def officer(request: Request) -> bool:
        return bool(request.session.get("officer"))

    def csrf_token(request: Request) -> str:
        if "csrf" not in request.session:
            request.session["csrf"] = secrets.token_urlsafe(24)
        return request.session["csrf"]

    async def checked_form(request: Request):
        form = await request.form(max_fields=10, max_files=0)
        sent = str(form.get("csrf", ""))
        if not sent or not hmac.compare_digest(sent, request.session.get("csrf", "")):
            return None
        return form

    def to_login() -> RedirectResponse:
        return RedirectResponse("/officer/login", status_code=303)

    @app.get("/officer/login", response_class=HTMLResponse)
    async def login_page(request: Request):
        return page(request, "login.html", csrf=csrf_token(request), failed=False)

    @app.post("/officer/login", response_class=HTMLResponse)
    async def login(request: Request):
        client = request.client.host if request.client else "?"
        if not app.state.login_bucket.allow(client):
            return error(request, 429, "Quá nhiều lần đăng nhập", "Vui lòng đợi rồi thử lại.")
        form = await checked_form(request)
        if form is None:
            return error(request, 403, "Biểu mẫu hết hạn", "Vui lòng tải lại trang đăng nhập.")
        stored = web.officer_password_hash
        ok = stored is not None and await run_in_threadpool(
            verify_password, str(form.get("password", "")), stored.get_secret_value()
        )
        if not ok:
            return page(request, "login.html", 401, csrf=csrf_token(request), failed=True)
        request.session.clear()
        request.session.update({"officer": True, "csrf": secrets.token_urlsafe(24)})
        return RedirectResponse("/officer", status_code=303)

    @app.post("/officer/logout")
    async def logout(request: Request):
        if officer(request) and await checked_form(request) is None:
            return error(request, 403, "Biểu mẫu hết hạn", "Vui lòng tải lại trang.")
        request.session.clear()
        return to_login()

    @app.get("/officer", response_class=HTMLResponse)
    async def officer_matrix(request: Request, cycle: str | None = None, filter: str | None = None):
        if not officer(request):
            return to_login()
        cycles = ws.config.cycles
        today = settings.calendar.today()
        if cycle is None:  # the open cycle due soonest, else the last
            due = [c for c in cycles if c.due >= today]
            cycle = (min(due, key=lambda c: c.due) if due else cycles[-1]).id
        try:
            ws.config.cycle(cycle)
        except ThiduaError:
            return error(request, 404, "Không có kỳ báo cáo này", f"Mã kỳ: {cycle}")
        rows = await run_in_threadpool(review.matrix, ws, cycle)
        counts = {f: sum(1 for r in rows if r["review"] == s) for f, s in FILTERS.items()}
        shown = (
            rows if filter not in FILTERS else [r for r in rows if r["review"] == FILTERS[filter]]
        )
        return page(
            request,
            "officer_matrix.html",
            cycles=cycles,
            cycle=ws.config.cycle(cycle),
            rows=shown,
            total=len(rows),
            counts=counts,
            filters=FILTER_VI,
            current=filter,
            csrf=csrf_token(request),
            prefect_ui=prefect_ui,
        )

    @app.get("/officer/{cycle}/{unit}", response_class=HTMLResponse)
    async def officer_unit(request: Request, cycle: str, unit: str, done: str | None = None):
        if not officer(request):
            return to_login()
        try:
            u, c = ws.config.unit(unit), ws.config.cycle(cycle)
        except ThiduaError:
            return error(request, 404, "Không tìm thấy", f"{unit} / {cycle}")
        view = await run_in_threadpool(review.unit_view, ws, unit, cycle)
        return page(
            request,
            "officer_unit.html",
            unit=u,
            cycle=c,
            view=view,
            csrf=csrf_token(request),
            done=done,
            refused=None,
            prefect_ui=prefect_ui,
        )

    @app.post("/officer/{cycle}/{unit}/decide", response_class=HTMLResponse)
    async def officer_decide(request: Request, cycle: str, unit: str):
        if not officer(request):
            return to_login()
        form = await checked_form(request)
        if form is None:
            return error(
                request,
                403,
                "Biểu mẫu hết hạn",
                "Phiên làm việc đã đổi; vui lòng tải lại trang rồi thao tác lại.",
            )
        try:
            u, c = ws.config.unit(unit), ws.config.cycle(cycle)
        except ThiduaError:
            return error(request, 404, "Không tìm thấy", f"{unit} / {cycle}")
        try:
            await run_in_threadpool(
                review.decide,
                ws,
                unit,
                cycle,
                str(form.get("action")),
                "officer",
                str(form.get("comment", "")),
            )
        except ThiduaError as exc:  # ReviewRefused, ReviewConflict
            view = await run_in_threadpool(review.unit_view, ws, unit, cycle)
            return page(
                request,
                "officer_unit.html",
                409 if not isinstance(exc, ReviewRefused) else 400,
                unit=u,
                cycle=c,
                view=view,
                csrf=csrf_token(request),
                done=None,
                refused=str(exc),
                prefect_ui=prefect_ui,
            )
        return RedirectResponse(
            f"/officer/{cycle}/{unit}?done={form.get('action')}", status_code=303
        )

    # -- the rest ----------------------------------------------------------------------

    @app.get("/static/app.css")
    async def css():
        return Response(
            (HERE / "static" / "app.css").read_text("utf-8"),
            media_type="text/css",
            headers={"Cache-Control": "max-age=3600"},
        )

    @app.get("/healthz")
    async def healthz():
        return PlainTextResponse("ok")

    @app.get("/", response_class=HTMLResponse)
    async def root(request: Request):
        return page(
            request,
            "error.html",
            200,
            title="Trang nộp báo cáo thi đua",
            message="Đơn vị vui lòng mở đường dẫn riêng trong thư nhắc của đơn vị. "
            "Cán bộ Phòng VHXH đăng nhập tại /officer.",
        )

    return app
