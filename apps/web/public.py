"""The pages anyone may open: the home page (it points units to their own link), the
stylesheet and the health check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse

from apps.web.site import HERE, Site, site

router = APIRouter()


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
async def root(request: Request, s: Annotated[Site, Depends(site)]) -> HTMLResponse:
    return s.page(
        request,
        "error.html",
        title="Trang nộp báo cáo thi đua",
        message="Đơn vị vui lòng mở đường dẫn riêng trong thư nhắc của đơn vị. "
        f"Cán bộ Phòng VHXH đăng nhập tại {request.scope.get('root_path', '')}/officer.",
    )


@router.get("/static/app.css")
async def css() -> Response:
    return Response(
        (HERE / "static" / "app.css").read_text("utf-8"),
        media_type="text/css",
        headers={"Cache-Control": "max-age=3600"},
    )


@router.api_route("/healthz", methods=["GET", "HEAD"])
async def healthz() -> PlainTextResponse:
    return PlainTextResponse("ok")
