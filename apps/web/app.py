"""The web app: each unit's upload page (reached by its signed link, `apps.web.unit`)
and the officer's review pages (login, `apps.web.officer`).  FastAPI, Jinja2 templates
in Vietnamese, served by uvicorn (`thidua web`).  Every action calls the `pipeline`
modules behind the CLI.  This module wires the routers, the guards and the error pages.

Safety, route by route:
- `/u/{token}…`: only a token that verifies (itsdangerous, `[web] secret_key`) and
  names a live `upload_links` row reaches a unit's page, and the page shows that unit
  only; tampered → 403, revoked or expired → 410.  Each token has a token bucket
  (in-memory, per process: `RATE_BURST` requests, one more every `RATE_EVERY` s).
- `/officer…`: a session cookie signed with the same key, set by the login; every form
  carries the session's CSRF token (compared as bytes: any text is just a wrong token).
- Many communes (`create_tenants_app`): each tenant's site under `/t/<tenant>/`, with
  its own key (links and sessions), its own session cookie scoped to its prefix; a
  request that carries another tenant's session cookie is refused (403), and so is
  another tenant's link (its signature does not verify).
- Uploads: Content-Length and the streamed bytes are capped at `[web] max_upload_mb`
  (413 beyond); the part must be declared as xlsx (or octet-stream) *and* be a zip
  (415 otherwise); the workbook is parsed only in the examination's isolated worker,
  and collected under its sha256 (the take-in), never its name.  The plan cycle's
  optional plan document gets the same cap (per file) and checks: declared docx, pdf
  or octet-stream, and a docx a zip, a pdf starting with `%PDF`.
- Every response carries a strict Content-Security-Policy, no-referrer (the token is
  in the address) and nosniff; every error is a Vietnamese page in the site's layout
  (JSON only for a client that asks for JSON), never a bare 500.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount, get_route_path

from apps.web import council, officer, public, unit
from apps.web.guards import TokenBucket, security_headers
from apps.web.site import Site, templates
from pipeline.upload import UploadQueue
from thidua import links
from thidua.errors import ConfigError, ThiduaError
from thidua.tenants import Tenant
from thidua.workspace import Workspace

SESSION_HOURS = 8
SESSION_COOKIE = "thidua_officer"
FOREIGN_SESSION = (
    "Phiên đăng nhập này thuộc trang của xã khác. Vui lòng đăng nhập tại trang của xã mình."
)
# the error page of each status: its title and what to do
PAGES = {
    400: (
        "Yêu cầu không hợp lệ",
        "Biểu mẫu gửi lên không đọc được. Vui lòng tải lại trang rồi thử lại.",
    ),
    403: ("Không được phép", "Vui lòng tải lại trang rồi thao tác lại."),
    404: (
        "Không tìm thấy trang",
        (
            "Địa chỉ này không có trên trang nộp báo cáo. Đơn vị vui lòng mở đúng đường "
            "dẫn trong thư nhắc của đơn vị."
        ),
    ),
    405: (
        "Không thực hiện được",
        "Trang này không nhận thao tác đó. Vui lòng quay lại trang trước.",
    ),
    413: ("Tệp quá lớn", "Yêu cầu gửi lên vượt quá dung lượng cho phép."),
    415: ("Định dạng không được nhận", "Chỉ nhận biểu mẫu Excel (.xlsx)."),
    422: (
        "Yêu cầu không hợp lệ",
        "Thông tin gửi lên không đúng. Vui lòng tải lại trang rồi thử lại.",
    ),
    429: ("Quá nhiều yêu cầu", "Vui lòng đợi một phút rồi thử lại."),
    500: (
        "Lỗi hệ thống",
        (
            "Trang gặp lỗi khi xử lý yêu cầu. Vui lòng thử lại sau ít phút; nếu vẫn lỗi, "
            "xin liên hệ theo thông tin dưới đây."
        ),
    ),
}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Batched uploads: the upload queue's thread starts, warms GX up and starts the
    parsing worker before the first request (uvicorn; TestClient only when used as
    a context manager).  Without it, each upload is collected alone."""
    ws = app.state.site.ws
    uploads = None
    if ws.config.settings.web.uploads == "batched":
        uploads = UploadQueue(ws)
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


def create_app(ws: Workspace, prefect_ui: str | None = None, tenant: str | None = None) -> FastAPI:
    """The app on this workspace (one `tenant` of many: served under `/t/<tenant>`);
    WebNotConfigured without `[web] secret_key`."""
    web = ws.config.settings.web
    key = links.secret(web)
    prefect_ui = prefect_ui or os.environ.get("PREFECT_UI_URL", "http://127.0.0.1:4200")
    app = FastAPI(
        title="thidua", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    pages = templates(ws)
    pages.env.globals["root"] = f"/t/{tenant}" if tenant else ""
    app.state.site = Site(ws, key, pages, prefect_ui)
    app.state.uploads = None
    app.state.buckets = TokenBucket()
    app.state.login_bucket = TokenBucket(burst=10, every=6.0)
    app.add_middleware(
        SessionMiddleware,
        secret_key=key,
        session_cookie=f"{SESSION_COOKIE}_{tenant}" if tenant else SESSION_COOKIE,
        path=f"/t/{tenant}" if tenant else "/",
        max_age=SESSION_HOURS * 3600,
        same_site="strict",
        https_only=web.base_url.startswith("https"),
    )
    app.middleware("http")(security_headers)
    if tenant:
        app.middleware("http")(own_sessions_only(tenant))
    for module in (unit, council, officer, public):
        app.include_router(module.router)
    app.add_exception_handler(ThiduaError, project_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, http_error)
    app.add_exception_handler(officer.LoginRequired, lambda request, exc: officer.to_login(request))
    app.add_exception_handler(Exception, server_error)
    return app


def own_sessions_only(
    tenant: str,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """Middleware of a tenant's site: a request carrying another tenant's session
    cookie is refused (403) before any page or data, rather than sent to the login."""
    own = f"{SESSION_COOKIE}_{tenant}"

    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if any(k.startswith(SESSION_COOKIE + "_") and k != own for k in request.cookies):
            return error_page(request, 403, PAGES[403][0], FOREIGN_SESSION)
        return await call_next(request)

    return guard


def create_tenants_app(tenants: Mapping[str, Tenant], prefect_ui: str | None = None) -> FastAPI:
    """Every tenant's site under `/t/<tenant>/`; ConfigError when two tenants share a
    web key (a session or link of one would then open the other)."""
    sites = {name: create_app(t.workspace(), prefect_ui, name) for name, t in tenants.items()}
    keys = [s.state.site.key for s in sites.values()]
    if len(set(keys)) != len(keys):
        raise ConfigError(["tenants: each commune needs its own [web] secret_key"])

    @asynccontextmanager
    async def each_lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for site_app in sites.values():
                await stack.enter_async_context(site_app.router.lifespan_context(site_app))
            yield

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=each_lifespan)
    app.router.routes.extend(Mount(f"/t/{name}", app=s) for name, s in sites.items())
    app.get("/healthz")(healthz)
    app.middleware("http")(security_headers)
    return app


async def healthz() -> Response:
    return Response("ok", media_type="text/plain")


def error_page(
    request: Request, status: int, title: str, message: str, headers: dict | None = None
) -> Response:
    """The error in Vietnamese: the site's page, or JSON (English keys) for a client
    that asks for JSON rather than a page."""
    accept = request.headers.get("accept", "")
    if "application/json" in accept and "text/html" not in accept:
        body = {"status": status, "title": title, "message": message}
        return JSONResponse(body, status_code=status, headers=headers)
    response = request.app.state.site.error(request, status, title, message)
    response.headers.update(headers or {})
    return response


async def project_error(request: Request, exc: Exception) -> Response:
    """The one handler of the project's errors (datasette's `Base400.status`): an error
    that carries a `status` (a link's, `WebError`) says its title and what to do;
    another is a bad request, in general words."""
    status = getattr(exc, "status", None)
    if status is None:
        return error_page(request, 400, *PAGES[400])
    title = getattr(exc, "title", None) or PAGES.get(status, PAGES[400])[0]
    return error_page(request, status, title, str(exc))


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's and FastAPI's errors (no route, wrong method, a malformed form or
    query) in the site's words; a cut unit link (`/u/…`) is told as a link."""
    status = getattr(exc, "status_code", 422)
    title, message = PAGES.get(status, PAGES[400])
    if status == 404 and get_route_path(request.scope).startswith("/u/"):
        title, message = links.Tampered.title, links.Tampered.message
    return error_page(request, status, title, message, getattr(exc, "headers", None))


async def server_error(request: Request, exc: Exception) -> Response:
    logging.getLogger(__name__).error("unhandled error on %s", request.url.path, exc_info=exc)
    return error_page(request, 500, *PAGES[500])
