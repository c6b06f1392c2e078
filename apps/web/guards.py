"""The web app's guards: rate limits, security headers, CSRF tokens, the upload's size
cap, declared type and magic bytes.  Each refusal is an exception the route (or the
app's one handler) turns into a Vietnamese page."""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Awaitable, Callable

from fastapi import Request, Response

from apps.web.site import WebError
from thidua.errors import ThiduaError
from thidua.intake import refusal
from thidua.parse import first_look
from thidua.rules import fmt, plain_reason, problem, too_large

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# the plan document: declared type → (suffix it is stored under, its magic bytes)
DOCUMENT_KINDS = {".docx": (DOCX_TYPE, b"PK\x03\x04"), ".pdf": ("application/pdf", b"%PDF")}
RATE_BURST = 30  # requests per token at once …
RATE_EVERY = 2.0  # … then one every 2 s
MULTIPART_SLACK = 64 * 1024  # form boundaries and headers around the file
FORM_EXPIRED = WebError(403, "Biểu mẫu hết hạn", "Vui lòng tải lại trang rồi thao tác lại.")


class Refused(ThiduaError):
    """An upload not taken (too large, not a workbook, no file): the unit's page shows
    the message above its form, with `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


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


async def security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """A strict Content-Security-Policy, no referrer (the token is in the address),
    nosniff and no framing on every response."""
    response = await call_next(request)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def same_token(sent: object, expected: str) -> bool:
    """A form's CSRF field against the expected token, compared as bytes in constant
    time: any text (non-ASCII too) or a file part is simply not the token."""
    if not isinstance(sent, str) or not sent or not expected:
        return False
    return hmac.compare_digest(sent.encode(), expected.encode())


async def read_capped(request: Request, limit: int, message: str) -> None:
    """Read the body, refusing it (413) past `limit` bytes, whether declared in
    Content-Length or counted while it streams in; the form parser reads it after."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Refused(413, message)
    body, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, message)
        body.append(chunk)
    request._body = b"".join(body)  # the form parser reads it from here


def check_workbook(name: str, data: bytes, max_mb: float) -> None:
    """Refused over the cap (413), or (415) for what every channel refuses at first
    sight, in the words of the acknowledgment of a file sent to the folder or the
    mailbox: a format not taken (`intake.refusal`), an empty, password-protected,
    old .xls or non-zip file (`parse.first_look`)."""
    if len(data) > int(max_mb * 2**20):
        raise Refused(413, too_big(max_mb, len(data)))
    reason = refusal(name) or first_look(data)
    if reason is not None:
        raise Refused(415, unreadable_text(reason))


def document_kind(content_type: str | None, data: bytes, max_mb: float, name: str) -> str:
    """`.docx` or `.pdf` when the declared type and the first bytes agree and the unit's
    document (`name`: "Văn bản kế hoạch", "Báo cáo sơ kết") is under the cap; Refused
    otherwise."""
    if len(data) > int(max_mb * 2**20):
        raise Refused(413, f"{name} vượt quá {fmt(max_mb)} MB.")
    for suffix, (declared, magic) in DOCUMENT_KINDS.items():
        if content_type in (declared, "application/octet-stream") and data.startswith(magic):
            return suffix
    raise Refused(415, f"{name} phải là tệp Word (.docx) hoặc PDF (.pdf).")


def too_big(max_mb: float, size: int | None = None) -> str:
    """The page's words for a workbook over the cap: the acknowledgment's of a file or
    mail over the cap (`size`: what the client declared or sent, when known)."""
    return unreadable_text(too_large(size, max_mb))


def unreadable_text(reason: str) -> str:
    """An unreadable file's reason and what to do, as the acknowledgment says them."""
    unreadable = problem("unreadable", reason=plain_reason(reason))
    return f"{unreadable.message_vi} {unreadable.fix_vi}"
