"""What every route of the web app shares: the workspace, the signing key, the Jinja2
templates with their Vietnamese filters and words, and the error that renders as the
site's error page (`WebError`, read by the app's one handler)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from thidua import layout, words
from thidua.errors import ThiduaError
from thidua.rules import fmt
from thidua.settings import WebSettings
from thidua.workspace import Workspace

HERE = Path(__file__).resolve().parent


class WebError(ThiduaError):
    """A request the site answers with its error page: `status`, a Vietnamese `title`,
    and the message saying what to do."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title = status, title


@dataclass
class Site:
    ws: Workspace
    key: str  # `[web] secret_key`: links, sessions, the unit's CSRF token
    templates: Jinja2Templates
    prefect_ui: str

    @property
    def web(self) -> WebSettings:
        return self.ws.config.settings.web

    def page(self, request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        return self.templates.TemplateResponse(request, name, ctx, status_code=status)

    def error(self, request: Request, status: int, title: str, message: str) -> HTMLResponse:
        return self.page(request, "error.html", status, title=title, message=message)


def site(request: Request) -> Site:
    """The route's dependency on what it shares (set by `create_app`)."""
    return request.app.state.site


def templates(ws: Workspace) -> Jinja2Templates:
    """The pages' templates: dates dd/mm/yyyy, numbers 1.234,5, sheets by their tab's
    title, and the words and contacts every page shows."""
    settings = ws.config.settings
    tz = settings.calendar.tz
    t = Jinja2Templates(directory=str(HERE / "templates"))
    t.env.filters["d"] = lambda v: v.strftime("%d/%m/%Y") if isinstance(v, date) else ""
    t.env.filters["dt"] = lambda v: (
        v.astimezone(tz).strftime("%d/%m/%Y %H:%M") if isinstance(v, datetime) else ""
    )
    t.env.filters["so"] = fmt  # 1.234,5: numbers the Vietnamese way
    # a sheet by the title its tab shows ("Chỉ tiêu"), as the acknowledgment names it
    t.env.filters["trang"] = lambda s: layout.SHEET_TITLES.get(s, s) if s else ""
    t.env.globals.update(
        words=words,
        sender=settings.sender,
        commune=settings.commune,
        blocks=settings.blocks,
    )
    return t
