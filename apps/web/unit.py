"""The unit's pages, `/u/{token}…`: reached only by a token that verifies and names a
live link (`link_claim`, a dependency of every route), showing that unit only."""

from __future__ import annotations

import hmac
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from apps.web.guards import (
    FORM_EXPIRED,
    MULTIPART_SLACK,
    XLSX_TYPE,
    Refused,
    check_workbook,
    document_kind,
    read_capped,
    same_token,
    too_big,
)
from apps.web.site import Site, WebError, site
from pipeline.links import open_link
from pipeline.review import unit_view
from pipeline.templates import workbook
from pipeline.upload import Uploaded, upload
from thidua.links import LinkClaim
from thidua.package import MANIFEST_MAX_BYTES, MANIFEST_SUFFIX
from thidua.template import template_filename

router = APIRouter(prefix="/u")
SiteDep = Annotated[Site, Depends(site)]


async def link_claim(request: Request, token: str, s: SiteDep) -> LinkClaim:
    """The live link's claim; 429 past the token's rate, else Tampered, Revoked or
    Expired (the app's handler answers them with their status)."""
    if not request.app.state.buckets.allow(token):
        raise WebError(
            429,
            "Quá nhiều yêu cầu",
            "Đơn vị gửi quá nhiều yêu cầu trong thời gian ngắn. Vui lòng đợi một phút rồi thử lại.",
        )
    return await run_in_threadpool(open_link, s.ws, token)


Claim = Annotated[LinkClaim, Depends(link_claim)]


def unit_csrf(key: str, claim: LinkClaim) -> str:
    """The unit's form token: derived from the link, so it needs no session."""
    return hmac.new(key.encode(), f"csrf/{claim.link_id}".encode(), "sha256").hexdigest()


def asks_document(s: Site, claim: LinkClaim) -> bool:
    """Whether the cycle asks for the unit's own document (its plan, its written review):
    the page then has a second field for it."""
    return s.ws.config.cycle(claim.cycle).document_required


async def unit_page(
    request: Request,
    s: Site,
    token: str,
    claim: LinkClaim,
    status: int = 200,
    result: Uploaded | None = None,
    upload_error: str | None = None,
) -> HTMLResponse:
    """The unit's page; after an upload, its outcome and the view read with it."""
    view = result.view if result and result.view else None
    if view is None:
        view = await run_in_threadpool(unit_view, s.ws, claim.unit, claim.cycle)
    return s.page(
        request,
        "unit.html",
        status,
        token=token,
        unit=s.ws.config.unit(claim.unit),
        cycle=s.ws.config.cycle(claim.cycle),
        view=view,
        result=result,
        upload_error=upload_error,
        csrf=unit_csrf(s.key, claim),
        max_mb=s.web.max_upload_mb,
        asks_document=asks_document(s, claim),
        manifest_field=s.web.package_manifest and not asks_document(s, claim),
    )


@router.get("/{token}", response_class=HTMLResponse)
async def unit_home(request: Request, token: str, claim: Claim, s: SiteDep) -> HTMLResponse:
    return await unit_page(request, s, token, claim)


@router.get("/{token}/template")
async def unit_template(claim: Claim, s: SiteDep) -> Response:
    unit, cycle = s.ws.config.unit(claim.unit), s.ws.config.cycle(claim.cycle)
    data = await run_in_threadpool(workbook, s.ws, unit, cycle)
    disposition = f'attachment; filename="{template_filename(unit, cycle)}"'
    return Response(data, media_type=XLSX_TYPE, headers={"Content-Disposition": disposition})


@router.post("/{token}/upload", response_class=HTMLResponse)
async def unit_upload(request: Request, token: str, claim: Claim, s: SiteDep) -> HTMLResponse:
    try:
        result = await receive(request, s, claim)
    except Refused as exc:
        return await unit_page(request, s, token, claim, exc.status, upload_error=str(exc))
    if result.refused:  # another unit's or cycle's workbook: the examination said so
        return await unit_page(request, s, token, claim, 422, upload_error=result.refused)
    return await unit_page(request, s, token, claim, result=result)


async def receive(request: Request, s: Site, claim: LinkClaim) -> Uploaded:
    """Read the form under the cap, check its token and files, and collect the workbook
    (with the unit's document, in a cycle that asks for it; with the package's manifest,
    elsewhere at the tier collecting packages): batched with the uploads waiting (the
    queue), else alone.  Refused for what the page shows above its form."""
    max_mb = s.web.max_upload_mb
    asked = asks_document(s, claim)
    # a cycle asking for the unit's document takes it too, each file under the same cap;
    # other cycles, at the tier collecting packages, a manifest (its rule refuses one over
    # its cap)
    second = int(max_mb * 2**20) if asked else (MANIFEST_MAX_BYTES + 1) * s.web.package_manifest
    declared = request.headers.get("content-length", "")
    await read_capped(
        request,
        int(max_mb * 2**20) + second + MULTIPART_SLACK,
        too_big(max_mb, int(declared) if declared.isdigit() else None),
    )
    form = await request.form(max_files=2, max_fields=4)
    if not same_token(form.get("csrf"), unit_csrf(s.key, claim)):
        raise FORM_EXPIRED
    book = form.get("file")
    if not isinstance(book, UploadFile):
        raise Refused(400, "Chưa chọn tệp để nộp.")
    data = await book.read()
    # a browser sends an empty part for a file not chosen
    extra = form.get("plan" if asked else "manifest")
    extra_type, extra_data = (
        (extra.content_type, await extra.read()) if isinstance(extra, UploadFile) else (None, b"")
    )
    await form.close()
    document = None
    if extra_data and asked:
        name = s.ws.config.cycle(claim.cycle).document_vi
        document = (document_kind(extra_type, extra_data, max_mb, name), extra_data)
    elif extra_data:  # judged by the manifest rule, as the folder's and mailbox's
        document = (MANIFEST_SUFFIX, extra_data)
    check_workbook(book.filename or "", data, max_mb)
    uploads = request.app.state.uploads
    return await run_in_threadpool(
        uploads.upload if uploads else partial(upload, s.ws, view=True),
        claim.unit,
        claim.cycle,
        data,
        document=document,
    )
