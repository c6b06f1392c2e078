"""Each unit's upload link for a cycle: a token signed with `[web] secret_key`.

The token carries (unit, cycle, link id) and is signed with itsdangerous
(`URLSafeTimedSerializer`, salt `thidua-upload`); the link id is a row of the
warehouse's `upload_links`, which holds the expiry and the revocation, so the officer
can revoke a link and a link's validity can change without re-signing.  A token that
does not verify is *tampered* (403); the expiry and the revocation are checked against
the warehouse (410).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, URLSafeTimedSerializer

from thidua.config import Cycle
from thidua.errors import ThiduaError
from thidua.settings import WebSettings

SALT = "thidua-upload"
GRACE_DAYS = 60  # default validity: until the cycle's due date + 60 days


class WebNotConfigured(ThiduaError):
    "[web] secret_key is not set (THIDUA_WEB_SECRET_KEY or secrets.toml)"


class LinkError(ThiduaError):
    """A link that opens no page.  `status` and `title` are the web's answer (its one
    error handler reads them); the message tells the unit what to do."""

    status = 403
    title = "Đường dẫn không hợp lệ"
    message = (
        "Đường dẫn này không đúng hoặc đã bị sửa. Vui lòng dùng đúng đường dẫn trong "
        "thư nhắc của đơn vị, hoặc liên hệ để được cấp lại."
    )

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)


class Tampered(LinkError):
    "The link's signature does not verify, or names no live link of that unit"


class Revoked(LinkError):
    "The link was revoked by the officer"

    status = 410
    title = "Đường dẫn đã bị thu hồi"
    message = "Đường dẫn nộp báo cáo này đã bị thu hồi. Vui lòng liên hệ để được cấp đường dẫn mới."


class Expired(LinkError):
    "The link has expired"

    status = 410
    title = "Đường dẫn đã hết hạn"
    message = "Đường dẫn nộp báo cáo này đã hết hạn. Vui lòng liên hệ để được cấp đường dẫn mới."


@dataclass(frozen=True)
class LinkClaim:
    unit: str
    cycle: str
    link_id: str


def secret(web: WebSettings) -> str:
    if web.secret_key is None:
        raise WebNotConfigured(
            "[web] secret_key is not set: put it in config/secrets.toml or THIDUA_WEB_SECRET_KEY"
        )
    return web.secret_key.get_secret_value()


def serializer(web: WebSettings, salt: str = SALT) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret(web), salt=salt)


def new_link_id() -> str:
    return secrets.token_hex(8)


def sign(web: WebSettings, claim: LinkClaim) -> str:
    return serializer(web).dumps([claim.unit, claim.cycle, claim.link_id])


def verify(web: WebSettings, token: str) -> LinkClaim:
    """The claim of a token whose signature verifies; Tampered otherwise (changed, or
    signed with another key)."""
    try:
        unit, cycle, link_id = serializer(web).loads(token)
    except (BadSignature, ValueError, TypeError):
        raise Tampered() from None
    return LinkClaim(str(unit), str(cycle), str(link_id))


def url(web: WebSettings, token: str) -> str:
    return f"{web.base_url.rstrip('/')}/u/{token}"


def expires_at(web: WebSettings, cycle: Cycle, now: datetime, tz: ZoneInfo) -> datetime:
    """When a link made `now` stops working: `link_valid_days` after now, else the end
    of the cycle's (moved) due date + 60 days, local time."""
    if web.link_valid_days:
        return now + timedelta(days=web.link_valid_days)
    last: date = cycle.due + timedelta(days=GRACE_DAYS)
    return datetime.combine(last + timedelta(days=1), time(0), tz)
